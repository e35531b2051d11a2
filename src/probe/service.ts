// `tramline probe`: one run (--once), or a run every interval with the results served as Prometheus
// metrics (or pushed to a Pushgateway).
import { createServer, type Server } from 'node:http';
import type { ProbeMemory } from './dashboard-user.ts';
import { createProbeMetrics, type ProbeMetrics } from './metrics.ts';
import type { ProbeOptions } from './options.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import { runProbe, type ProbeResult, type ProbeSettings } from './run.ts';
import { summaryJson, summaryText } from './summary.ts';
import { listenHttp } from '../net/http-listen.ts';

export interface ProbeIo {
  /** Run summaries (stdout). */
  out(line: string): void;
  /** Progress and problems (stderr). */
  err(line: string): void;
  now(): number;
}

const defaultIo: ProbeIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  now: Date.now,
};

/** The receiver's address as the gateway would reach it when no --public-url is given (a wildcard bind is not an address). */
function defaultPublicUrl(receiver: Receiver): string {
  return receiver.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

function settings(o: ProbeOptions, receiver: Receiver): ProbeSettings {
  return {
    url: o.url,
    token: o.token,
    consumer: o.consumer,
    publicUrl: o.publicUrl ?? defaultPublicUrl(receiver),
    timeoutMs: o.timeoutMs,
    chromiumPath: o.chromiumPath,
  };
}

function report(o: ProbeOptions, io: ProbeIo, r: ProbeResult): void {
  io.out(o.json ? summaryJson(r) : summaryText(r));
  if (!r.ok && o.json) io.err(`probe FAILED at ${r.failedStep}: ${r.error}`);
}

async function push(o: ProbeOptions, io: ProbeIo, metrics: ProbeMetrics): Promise<boolean> {
  if (!o.pushgateway) return true;
  try {
    await metrics.push(o.pushgateway, o.consumer);
    return true;
  } catch (err) {
    io.err(`probe: pushing to ${o.pushgateway} failed: ${(err as Error).message}`);
    return false;
  }
}

/** --once: one run; resolves with the exit code (0 only when no step failed and a requested push worked). */
export async function probeOnce(o: ProbeOptions, io: ProbeIo = defaultIo): Promise<number> {
  const receiver = await startReceiver(o.listen.host, o.listen.port);
  try {
    const r = await runProbe(settings(o, receiver), receiver, io.now);
    report(o, io, r);
    const metrics = createProbeMetrics();
    metrics.record(r, io.now());
    const pushed = await push(o, io, metrics);
    return r.ok && pushed ? 0 : 1;
  } finally {
    await receiver.close();
  }
}

async function serveMetrics(metrics: ProbeMetrics, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(path === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' }).end(path === '/healthz' ? 'ok\n' : 'not found\n');
  });
  return { server, url: `${await listenHttp(server, port, host)}/metrics` };
}

/** Loop mode: runs until `stop` resolves (SIGTERM/SIGINT in the CLI). Runs never overlap. */
export async function probeLoop(o: ProbeOptions, stop: Promise<void>, io: ProbeIo = defaultIo): Promise<void> {
  const metrics = createProbeMetrics();
  const receiver = await startReceiver(o.listen.host, o.listen.port);
  let served: { server: Server; url: string } | undefined;
  try {
    if (!o.pushgateway) served = await serveMetrics(metrics, o.metricsListen.host, o.metricsListen.port);
    const s = settings(o, receiver);
    // The dashboard user's password, kept for the next run (one user per probe process, not one per run).
    const memory: ProbeMemory = {};
    io.err(
      `probe: receiver on ${receiver.url} (the gateway delivers to ${s.publicUrl}/webhook); ${served ? `metrics on ${served.url}` : `pushing to ${o.pushgateway}`}; every ${o.intervalMs / 1000}s`,
    );
    let stopped = false;
    void stop.then(() => (stopped = true));
    while (!stopped) {
      const started = io.now();
      const r = await runProbe(s, receiver, io.now, memory);
      metrics.record(r, io.now());
      report(o, io, r);
      await push(o, io, metrics);
      const wait = Math.max(0, o.intervalMs - (io.now() - started));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stop, new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]);
      clearTimeout(timer);
    }
  } finally {
    await receiver.close();
    if (served) {
      const server = served.server;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }
}
