import os from 'node:os';
import type { Conservation } from './conservation.ts';

/**
 * A chaos scenario: sets up its own fleet and database, applies its fault under load, and returns its
 * figures (the conservation check among them) or throws naming the check that failed. `short` is the
 * version CI runs (seconds); `full` is the one `npm run test:chaos` runs (minutes).
 */
export type Size = 'short' | 'full';

export interface Figures {
  conservation: Conservation;
  [figure: string]: unknown;
}

/** A check: what must hold, said with its figure, and whether it held. */
export type Check = [what: string, holds: boolean];

export interface Outcome {
  figures: Figures;
  checks: Check[];
}

export interface Scenario {
  name: string;
  /** What it guarantees, in one sentence (README "Reliability"). */
  guarantees: string;
  /** Its full size is left out of a full run without names (the soak: 30 minutes); its short size runs with the others. */
  fullOnlyByName?: boolean;
  run(size: Size, log: (line: string) => void): Promise<Outcome>;
}

export const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

export const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);
