import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { secureDataDir } from '../store/data-dir.ts';

/**
 * The embedded default needs no setup: when TRAMLINE_OPERATOR_TOKEN is unset, a token is
 * generated on first start and kept (mode 0600) in the data folder.
 */
export function operatorTokenFile(dataDir: string): string {
  return path.join(dataDir, 'operator-token');
}

export function readOperatorToken(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(operatorTokenFile(dataDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function ensureOperatorToken(dataDir: string): { token: string; created: boolean } {
  const existing = readOperatorToken(dataDir);
  if (existing) return { token: existing, created: false };
  const token = `tlop_${randomBytes(32).toString('base64url')}`;
  secureDataDir(dataDir);
  fs.writeFileSync(operatorTokenFile(dataDir), `${token}\n`, { mode: 0o600 });
  return { token, created: true };
}
