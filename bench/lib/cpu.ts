import fs from 'node:fs';

/** Linux clock ticks per second (`getconf CLK_TCK`): 100 on every mainstream kernel build. */
const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used so far; null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces or parentheses: fields are counted after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM) of a process in MiB; null once it is gone. */
export function peakRssMiB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/**
 * CPU used by a changing set of processes (the gateway's, the Postgres backends of one database)
 * between start() and stop(). Sampled periodically so a process that exits mid-run still counts up to
 * its last sample; a process first seen after start() counts from zero (it started during the run).
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly pids: () => Promise<number[]> | number[],
    private readonly intervalMs = 500,
  ) {}

  private async sample(): Promise<void> {
    for (const pid of await this.pids()) {
      const s = cpuSeconds(pid);
      if (s === null) continue;
      if (!this.first.has(pid)) this.first.set(pid, this.started ? 0 : s);
      this.last.set(pid, s);
    }
  }

  async start(): Promise<void> {
    this.first.clear();
    this.last.clear();
    this.started = false;
    await this.sample();
    this.started = true;
    this.timer = setInterval(() => void this.sample().catch(() => {}), this.intervalMs);
  }

  /** CPU seconds used since start(). */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sample();
    let total = 0;
    for (const [pid, end] of this.last) total += end - (this.first.get(pid) ?? 0);
    return Math.round(total * 100) / 100;
  }
}
