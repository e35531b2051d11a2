// Container health check (Dockerfile HEALTHCHECK), with no dependency but Node itself.
// Roles with the API (api, all) answer GET /healthz on PORT: healthy when it answers 200.
// Worker and scheduler processes have no API, only GET /metrics on TRAMLINE_METRICS_PORT, whose
// answer depends on the database; for them a connection accepted on that port means the process is
// alive (a database outage must not get every worker restarted).
import http from 'node:http';
import net from 'node:net';

const host = '127.0.0.1';
const port = Number(process.env.PORT || 8080);
const metricsPort = Number(process.env.TRAMLINE_METRICS_PORT || 9464);
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 2000);

function healthz() {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/healthz', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 'ok' : 'unhealthy');
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(err.code === 'ECONNREFUSED' ? 'no-api' : 'unhealthy'));
  });
}

function accepts(p) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: p, timeout: timeoutMs });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

const api = await healthz();
if (api === 'ok') process.exit(0);
if (api === 'no-api' && metricsPort > 0 && (await accepts(metricsPort))) process.exit(0);
process.stderr.write(`unhealthy: /healthz on :${port} ${api}; metrics port :${metricsPort} checked\n`);
process.exit(1);
