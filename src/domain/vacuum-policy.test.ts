import { describe, expect, it } from 'vitest';
import { maintenanceDue, type TableActivity } from './vacuum-policy.ts';

const quiet = (table: string, liveRows: number): TableActivity => ({
  table,
  liveRows,
  deadRows: 0,
  modifiedSinceAnalyze: 0,
  insertedSinceVacuum: 0,
});

describe('maintenanceDue', () => {
  it('leaves quiet tables alone', () => {
    expect(maintenanceDue([quiet('messages', 1_000_000), quiet('tenants', 3)])).toEqual([]);
  });

  it('vacuums a table once its dead rows pass 50 + 20 % of its live rows, and analyses it past 50 + 10 % changed', () => {
    const t = { ...quiet('deliveries', 10_000), deadRows: 2_051, modifiedSinceAnalyze: 2_051 };
    expect(maintenanceDue([t])).toEqual([{ table: 'deliveries', vacuum: true, analyze: true }]);
    expect(maintenanceDue([{ ...t, deadRows: 2_050 }])).toEqual([{ table: 'deliveries', vacuum: false, analyze: true }]);
    expect(maintenanceDue([{ ...t, deadRows: 0, modifiedSinceAnalyze: 1_050 }])).toEqual([]);
  });

  it('vacuums a table that only grows (its visibility map), past 1,000 + 20 % inserted', () => {
    expect(maintenanceDue([{ ...quiet('attempts', 10_000), insertedSinceVacuum: 3_001 }])).toEqual([
      { table: 'attempts', vacuum: true, analyze: false },
    ]);
  });

  it('puts the table with the most dead rows first', () => {
    const due = maintenanceDue([
      { ...quiet('attempts', 0), deadRows: 100 },
      { ...quiet('deliveries', 0), deadRows: 9_000 },
      { ...quiet('messages', 0), deadRows: 500 },
    ]);
    expect(due.map((m) => m.table)).toEqual(['deliveries', 'messages', 'attempts']);
  });
});
