import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BackupError, FORMAT_VERSION, parseManifest } from './manifest.ts';
import { lines } from './streams.ts';

const valid = {
  format: 'tramline-backup',
  formatVersion: FORMAT_VERSION,
  tramlineVersion: '0.1.0',
  schemaVersion: '0003_audit_log',
  migrations: ['0001_init', '0002_tenant_keys', '0003_audit_log'],
  engine: 'postgres',
  createdAt: '2026-11-26T06:00:00.000Z',
  durationMs: 12,
  tenant: null,
  compression: 'gzip',
  masterKeyVersions: [1],
  tables: [{ name: 'tenants', file: 'tenants.ndjson.gz', columns: ['id', 'name'], rows: 1, bytes: 40, sha256: 'a'.repeat(64) }],
};

describe('parseManifest', () => {
  it('reads a valid manifest', () => {
    expect(parseManifest(JSON.stringify(valid)).tables[0]!.rows).toBe(1);
  });

  it('refuses what is not a manifest, a newer format, and a file name that could leave the folder', () => {
    expect(() => parseManifest('{')).toThrow(BackupError);
    expect(() => parseManifest(JSON.stringify({ hello: 1 }))).toThrow(/not a Tramline backup/);
    expect(() => parseManifest(JSON.stringify({ ...valid, formatVersion: FORMAT_VERSION + 1 }))).toThrow(/upgrade Tramline/);
    const escape = { ...valid, tables: [{ ...valid.tables[0], file: '../../etc/passwd' }] };
    expect(() => parseManifest(JSON.stringify(escape))).toThrow(/malformed/);
  });
});

describe('lines', () => {
  it('splits a stream into lines, keeping a character split across chunks whole', async () => {
    const text = Buffer.from('{"a":"ü"}\n{"b":"✓"}\n', 'utf8');
    const cut = text.indexOf(Buffer.from('✓')) + 1; // inside the three bytes of ✓
    const out: string[] = [];
    for await (const batch of lines(Readable.from([text.subarray(0, 7), text.subarray(7, cut), text.subarray(cut)]))) out.push(...batch);
    expect(out).toEqual(['{"a":"ü"}', '{"b":"✓"}']);
  });
});
