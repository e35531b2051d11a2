import fs from 'node:fs';
import path from 'node:path';

/**
 * A memory cgroup of the scenario's own, nested under the one this process runs in (so it can only narrow what
 * this process is already allowed, never widen it): the memory limit a container runtime or Kubernetes sets
 * on a pod. Past the limit the kernel reclaims page cache first, then its OOM killer SIGKILLs a process inside.
 * cgroup v2 (`memory.max`, `memory.events`) and v1 (`memory.limit_in_bytes`, `memory.oom_control`) both work.
 */
export interface MemoryCgroup {
  path: string;
  version: 1 | 2;
  /** A `spawnTramline` launcher: the process enters the group before node starts, so node sees the limit (its heap is sized by it). */
  launcher(): string[];
  /** Sets the limit, in bytes, or none (-1) (fails with EBUSY on v1 when the group cannot be reclaimed below it). */
  limit(bytes: number): void;
  /** Memory charged to the group now (anonymous memory and page cache). */
  usage(): number;
  /** Process ids in the group now. */
  pids(): number[];
  /** Processes the OOM killer killed in the group so far. */
  oomKills(): number;
  /** Times an allocation met the limit (v1: failcnt; v2: the `max` events), reclaim or kill. */
  limitHits(): number;
  remove(): void;
}

/** Why no memory cgroup can be made here, or null when one can. */
export function memoryCgroupUnavailable(): string | null {
  try {
    own();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function own(): { dir: string; version: 1 | 2 } {
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1 = lines.map((l) => l.split(':')).find(([, ctl]) => ctl?.split(',').includes('memory'));
  if (v1 && fs.existsSync('/sys/fs/cgroup/memory')) return { dir: path.join('/sys/fs/cgroup/memory', v1[2]!), version: 1 };
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 && fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const dir = path.join('/sys/fs/cgroup', v2.slice(3));
    // A process may only sit in a leaf of v2: the new group is a child, and `memory` must be delegated to children.
    if (!fs.readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').includes('memory'))
      throw new Error(`the memory controller is not enabled for children of ${dir}`);
    return { dir, version: 2 };
  }
  throw new Error('no memory cgroup controller is mounted under /sys/fs/cgroup');
}

export function createMemoryCgroup(name: string): MemoryCgroup {
  const { dir, version } = own();
  const p = path.join(dir, name);
  fs.mkdirSync(p);
  const read = (file: string): string => fs.readFileSync(path.join(p, file), 'utf8');
  const stat = (file: string, key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(read(file))?.[1] ?? 0);
  return {
    path: p,
    version,
    launcher: () => ['sh', '-c', `echo $$ > '${path.join(p, 'cgroup.procs')}' && exec "$@"`, 'sh'],
    limit: (bytes) =>
      fs.writeFileSync(
        path.join(p, version === 1 ? 'memory.limit_in_bytes' : 'memory.max'),
        bytes < 0 ? (version === 1 ? '-1' : 'max') : String(bytes),
      ),
    usage: () => Number(read(version === 1 ? 'memory.usage_in_bytes' : 'memory.current')),
    oomKills: () => (version === 1 ? stat('memory.oom_control', 'oom_kill') : stat('memory.events', 'oom_kill')),
    limitHits: () => (version === 1 ? Number(read('memory.failcnt')) : stat('memory.events', 'max')),
    pids: () => read('cgroup.procs').split('\n').filter(Boolean).map(Number),
    remove: () => fs.rmdirSync(p),
  };
}
