import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Expand/contract: the migration Job runs before the new pods, while the previous version still
 * serves (deploy/k8s/rollout.sh). So a migration may only expand the schema (new tables, nullable or
 * defaulted columns, indexes built concurrently or on new tables); contracting (dropping, renaming,
 * retyping, tightening) is allowed only in a release AFTER the one whose code stopped using what it
 * removes, and the migration says so in a `contract:` line of its comment, naming that release.
 */
const root = path.resolve(import.meta.dirname, '../..');
const migrations = (readdirSync(path.join(root, 'src'), { recursive: true }) as string[])
  .filter((f) => /(^|\/)migrations\/\d{4}_[\w-]+\.(ts|sql)$/.test(f))
  .sort((a, b) => path.basename(a).localeCompare(path.basename(b)));

const CONTRACTING: [RegExp, string][] = [
  [/\bDROP\s+(TABLE|COLUMN|TYPE|VIEW|FUNCTION|SCHEMA)\b/i, 'drops'],
  [/\bRENAME\b/i, 'renames'],
  [/\bALTER\s+COLUMN\s+\w+\s+(SET\s+DATA\s+)?TYPE\b/i, 'retypes a column'],
  [/\bALTER\s+COLUMN\s+\w+\s+SET\s+NOT\s+NULL\b/i, 'makes a column NOT NULL'],
  [/\bADD\s+COLUMN\s+(IF\s+NOT\s+EXISTS\s+)?\w+\s+[^,;]*\bNOT\s+NULL\b(?![^,;]*\bDEFAULT\b)/i, 'adds a NOT NULL column without a default'],
];

function contractions(source: string): string[] {
  const sql = source.replace(/--[^\n]*/g, '');
  return CONTRACTING.filter(([re]) => re.test(sql)).map(([, what]) => what);
}

describe('migrations are expand/contract (the old version runs on the new schema during a rollout)', () => {
  it('finds the migrations', () => {
    expect(migrations.length).toBeGreaterThanOrEqual(4);
  });

  it('the checks recognise contracting statements', () => {
    expect(contractions('ALTER TABLE messages DROP COLUMN traceparent;')).toEqual(['drops']);
    expect(contractions('ALTER TABLE endpoints RENAME COLUMN url TO target;')).toEqual(['renames']);
    expect(contractions('ALTER TABLE a ALTER COLUMN b TYPE bigint;')).toEqual(['retypes a column']);
    expect(contractions('ALTER TABLE a ALTER COLUMN b SET NOT NULL;')).toEqual(['makes a column NOT NULL']);
    expect(contractions('ALTER TABLE a ADD COLUMN b text NOT NULL;')).toEqual(['adds a NOT NULL column without a default']);
    expect(contractions("ALTER TABLE a ADD COLUMN b text NOT NULL DEFAULT '';")).toEqual([]);
    expect(contractions('ALTER TABLE messages ADD COLUMN traceparent text;')).toEqual([]);
  });

  // The first migration creates the schema from nothing: there is no older version to keep running.
  for (const file of migrations.slice(1)) {
    it(`${path.basename(file)} only expands, or declares its contraction`, () => {
      const source = readFileSync(path.join(root, 'src', file), 'utf8');
      const found = contractions(source);
      if (found.length === 0) return;
      expect(source, `${file} ${found.join(', ')}: add "contract: <release that stopped using it>" to its comment`).toMatch(
        /\bcontract:\s*v?\d+\.\d+/,
      );
    });
  }
});
