import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './gateway.ts';
import { freePort, waitForOk } from './ports.ts';

export interface RunningRelay {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts bench/reference/relay.ts as a child process on the given database, delivering to the receiver. */
export async function startRelay(databaseUrl: string, receiverUrl: string): Promise<RunningRelay> {
  const port = await freePort();
  const nodeArgs = process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'bench/reference/relay.ts')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), RECEIVER_URL: receiverUrl },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let alive = true;
  child.once('exit', () => (alive = false));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (!alive) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  try {
    await waitForOk(`${url}/readyz`, 30_000, () => alive);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, stop };
}
