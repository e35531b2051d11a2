import cliProgress from 'cli-progress';
import type { BackupProgress, OnProgress } from '../domain/backup/progress.ts';

/**
 * Progress of a backup or restore on stderr: bars on a terminal, one line per finished table
 * otherwise (logs, CI, pipes), so stdout keeps only the result.
 */
export function progressReporter(out: NodeJS.WriteStream = process.stderr): { onProgress: OnProgress; stop(): void } {
  const unit = (p: BackupProgress): string => (p.phase === 'verify' ? 'bytes' : 'rows');
  if (out.isTTY) {
    const multi = new cliProgress.MultiBar(
      {
        stream: out,
        format: '{phase} {table} [{bar}] {percentage}% | {done}/{all} {unit}',
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const bars = new Map<string, cliProgress.SingleBar>();
    return {
      onProgress(p) {
        const id = `${p.phase}:${p.table}`;
        let bar = bars.get(id);
        if (!bar) {
          bar = multi.create(Math.max(p.total, 1), 0, {
            phase: p.phase.padEnd(7),
            table: p.table.padEnd(12),
            unit: unit(p),
            done: 0,
            all: p.total,
          });
          bars.set(id, bar);
        }
        // An empty table is complete at once: its bar runs 0 of 1 → 1 of 1 while the label says 0/0.
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.total === 0 ? (p.finished ? 1 : 0) : p.done, { done: p.done, all: p.total });
      },
      stop: () => multi.stop(),
    };
  }
  const started = new Map<string, number>();
  return {
    onProgress(p) {
      const id = `${p.phase}:${p.table}`;
      if (!started.has(id)) started.set(id, Date.now());
      if (p.finished) out.write(`${p.phase} ${p.table}: ${p.done} ${unit(p)} in ${Date.now() - started.get(id)!} ms\n`);
    },
    stop() {},
  };
}
