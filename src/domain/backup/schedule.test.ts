import { describe, expect, it } from 'vitest';
import { folderName, folderTime, isDue, planRetention } from './schedule.ts';

const at = (iso: string): string => folderName(new Date(iso));

describe('backup folder names', () => {
  it('round-trip through the time they name and sort by it', () => {
    const d = new Date('2026-11-26T06:00:00.123Z');
    expect(folderName(d)).toBe('2026-11-26T06-00-00-123Z');
    expect(folderTime(folderName(d))).toEqual(d);
    expect(folderTime('notes')).toBeNull();
    expect([at('2026-11-26T10:00:00Z'), at('2026-11-25T23:00:00Z')].sort()).toEqual([
      at('2026-11-25T23:00:00Z'),
      at('2026-11-26T10:00:00Z'),
    ]);
  });
});

describe('planRetention', () => {
  const complete = (iso: string) => ({ name: at(iso), complete: true });
  const partial = (iso: string) => ({ name: at(iso), complete: false });

  it('keeps the newest N complete backups and deletes the older ones', () => {
    const folders = [
      complete('2026-11-26T00:00:00Z'),
      complete('2026-11-26T06:00:00Z'),
      complete('2026-11-26T12:00:00Z'),
      complete('2026-11-26T18:00:00Z'),
    ];
    expect(planRetention(folders, 2)).toEqual([at('2026-11-26T00:00:00Z'), at('2026-11-26T06:00:00Z')]);
    expect(planRetention(folders, 7)).toEqual([]);
  });

  it('deletes dead incomplete runs but not one newer than every complete backup (it may be in progress)', () => {
    const folders = [partial('2026-11-26T01:00:00Z'), complete('2026-11-26T06:00:00Z'), partial('2026-11-26T07:00:00Z')];
    expect(planRetention(folders, 5)).toEqual([at('2026-11-26T01:00:00Z')]);
    expect(planRetention([partial('2026-11-26T01:00:00Z')], 1)).toEqual([]);
  });

  it('never touches folders it did not name', () => {
    expect(
      planRetention([{ name: 'keep-me', complete: true }, complete('2026-11-26T00:00:00Z'), complete('2026-11-26T06:00:00Z')], 1),
    ).toEqual([at('2026-11-26T00:00:00Z')]);
  });
});

describe('isDue', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  it('is due with no complete backup, or when the newest is older than the interval', () => {
    expect(isDue([], now, 6 * 3600_000)).toBe(true);
    expect(isDue([{ name: at('2026-11-26T11:00:00Z'), complete: false }], now, 6 * 3600_000)).toBe(true);
    expect(isDue([{ name: at('2026-11-26T07:00:00Z'), complete: true }], now, 6 * 3600_000)).toBe(false);
    expect(isDue([{ name: at('2026-11-26T05:59:00Z'), complete: true }], now, 6 * 3600_000)).toBe(true);
  });
});
