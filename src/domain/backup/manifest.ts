import { z } from 'zod';

/**
 * A backup is a folder of one gzipped NDJSON file per table (one row as a JSON object per line,
 * as row_to_json wrote it) and this manifest, written last: a backup without it is incomplete,
 * and restore refuses it. The format version changes only when a reader of the old version
 * could no longer read the new one.
 */
export const FORMAT = 'tramline-backup';
export const FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export const tableFile = (table: string): string => `${table}.ndjson.gz`;

const TableEntry = z.object({
  name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
  file: z.string().regex(/^[a-z_][a-z0-9_]*\.ndjson\.gz$/),
  columns: z.array(z.string().min(1)).min(1),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const ManifestSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.number().int().positive(),
  tramlineVersion: z.string(),
  /** The last migration applied to the source database; `migrations` lists them all. */
  schemaVersion: z.string(),
  migrations: z.array(z.string()),
  engine: z.enum(['pglite', 'postgres']),
  createdAt: z.string(),
  /** The snapshot's own duration, from the transaction's start to the manifest. */
  durationMs: z.number().nonnegative(),
  /** null: every tenant; else the one tenant this backup holds. */
  tenant: z.string().nullable(),
  compression: z.literal('gzip'),
  /** Master key versions that wrap the data keys in tenant_keys: restore needs these keys. */
  masterKeyVersions: z.array(z.number().int()),
  tables: z.array(TableEntry),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestTable = z.infer<typeof TableEntry>;

export class BackupError extends Error {}

export function parseManifest(text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupError('manifest.json is not valid JSON: the backup is damaged');
  }
  const format = (json as { format?: unknown; formatVersion?: unknown } | null) ?? {};
  if (format.format !== FORMAT) throw new BackupError('manifest.json is not a Tramline backup manifest');
  if (typeof format.formatVersion === 'number' && format.formatVersion > FORMAT_VERSION) {
    throw new BackupError(
      `This backup has format version ${format.formatVersion}; this Tramline reads version ${FORMAT_VERSION} and older: upgrade Tramline`,
    );
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success)
    throw new BackupError(`manifest.json is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
