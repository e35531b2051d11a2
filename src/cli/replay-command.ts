// `tramline replay <consumer> <endpoint>`: a bulk replay on a running gateway, followed to the end with a
// progress bar on a terminal (one line per second otherwise), through the same API and SDK as the rest.
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import type { Replay } from '../../sdk/src/index.ts';
import { act, conn, connect, csv } from './api-commands.ts';

const STATES = new Set(['succeeded', 'failed', 'skipped', 'none']);
const statuses = (v: string): Array<'succeeded' | 'failed' | 'skipped' | 'none'> => {
  const list = csv(v);
  const bad = list.find((s) => !STATES.has(s));
  if (bad) throw new InvalidArgumentError(`"${bad}" is not one of succeeded, failed, skipped, none`);
  return list as Array<'succeeded' | 'failed' | 'skipped' | 'none'>;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the job until it ends, drawing its progress on stderr; stdout gets the final job only. */
async function follow(get: () => Promise<Replay>, first: Replay, out: NodeJS.WriteStream, intervalMs: number): Promise<Replay> {
  let job = first;
  const bar = out.isTTY
    ? new cliProgress.SingleBar(
        { stream: out, format: 'replay [{bar}] {percentage}% | {value}/{total} messages queued | {state}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(Math.max(job.total, 1), job.queued, { state: job.state });
  let lastLine = 0;
  for (;;) {
    bar?.setTotal(Math.max(job.total, 1));
    bar?.update(job.total === 0 ? 1 : job.queued, { state: job.state });
    if (!bar && (Date.now() - lastLine >= 1000 || job.state !== 'running')) {
      out.write(`replay ${job.id}: ${job.queued}/${job.total} queued (${job.state})\n`);
      lastLine = Date.now();
    }
    if (job.state !== 'running') break;
    await sleep(intervalMs);
    job = await get();
  }
  bar?.stop();
  return job;
}

export function registerReplayCommand(program: Command): void {
  conn(
    program
      .command('replay')
      .argument('<consumer>', 'id or uid')
      .argument('<endpoint>', 'the endpoint to send to (ep_…)')
      .description('Resend every message matching the filter to an endpoint, and follow the job to the end'),
  )
    .option('--event-types <types>', 'only these event types (comma-separated)', csv)
    .option('--channel <channel>', 'only messages carrying this channel')
    .option('--since <time>', 'only messages created at or after this time (ISO 8601)')
    .option('--until <time>', 'only messages created before this time (ISO 8601)')
    .option('--status <states>', 'only messages whose delivery here is succeeded, failed, skipped or none (comma-separated)', statuses)
    .option('--no-wait', 'print the job and return without following it')
    .action(
      act(async (o, consumer: string, endpoint: string) => {
        const client = await connect(o);
        const job = await client.endpoints.replay(consumer, endpoint, {
          ...(o['eventTypes'] ? { eventTypes: o['eventTypes'] as string[] } : {}),
          ...(o['channel'] ? { channel: o['channel'] as string } : {}),
          ...(o['since'] ? { since: o['since'] as string } : {}),
          ...(o['until'] ? { until: o['until'] as string } : {}),
          ...(o['status'] ? { status: o['status'] as ReturnType<typeof statuses> } : {}),
        });
        const end =
          o['wait'] === false ? job : await follow(() => client.endpoints.getReplay(consumer, endpoint, job.id), job, process.stderr, 500);
        process.stdout.write(
          o.json ? `${JSON.stringify(end, null, 2)}\n` : `replay ${end.id}: ${end.state}, ${end.queued} of ${end.total} messages queued\n`,
        );
        if (end.state === 'failed') process.exitCode = 1;
      }),
    );
}
