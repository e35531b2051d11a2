/**
 * When a table of the embedded database needs VACUUM or ANALYZE. PGlite has no autovacuum, so the scheduler asks
 * this about each table's activity counters (`pg_stat_user_tables`) and does what autovacuum would, with its
 * default thresholds: dead rows reclaim space and keep index scans short; fresh statistics keep plans right; a
 * table that only grows is vacuumed too, so its visibility map lets index-only scans skip the heap.
 */

import type { TableActivity } from '../store/maintenance.ts';

export type { TableActivity };

export type Maintenance = { table: string; vacuum: boolean; analyze: boolean };

// Postgres's autovacuum defaults (autovacuum_vacuum_threshold, _scale_factor, _insert_threshold, analyze_…).
const VACUUM_BASE = 50;
const VACUUM_SCALE = 0.2;
const INSERT_BASE = 1000;
const INSERT_SCALE = 0.2;
const ANALYZE_BASE = 50;
const ANALYZE_SCALE = 0.1;

/** The tables past a threshold, the most dead rows first (the one a claim or a read suffers from most). */
export function maintenanceDue(tables: readonly TableActivity[]): Maintenance[] {
  return tables
    .map((t) => ({
      t,
      vacuum: t.deadRows > VACUUM_BASE + VACUUM_SCALE * t.liveRows || t.insertedSinceVacuum > INSERT_BASE + INSERT_SCALE * t.liveRows,
      analyze: t.modifiedSinceAnalyze > ANALYZE_BASE + ANALYZE_SCALE * t.liveRows,
    }))
    .filter((m) => m.vacuum || m.analyze)
    .sort((a, b) => b.t.deadRows - a.t.deadRows)
    .map(({ t, vacuum, analyze }) => ({ table: t.table, vacuum, analyze }));
}
