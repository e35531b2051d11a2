/** What a backup or restore reports as it goes; the CLI draws bars from it, the scheduler logs it. */
export interface BackupProgress {
  phase: 'backup' | 'verify' | 'restore';
  table: string;
  /** Rows (backup, restore) or bytes (verify) done so far, and the total expected. */
  done: number;
  total: number;
  finished: boolean;
}

export type OnProgress = (p: BackupProgress) => void;
