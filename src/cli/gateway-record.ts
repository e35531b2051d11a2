import fs from 'node:fs';
import path from 'node:path';

/**
 * A running gateway writes where it listens into its data folder (`gateway.json`, mode 0600) and
 * removes the file when it stops. CLI commands that must talk to the gateway holding the data folder
 * read the address from here rather than guessing it from PORT: a shell without PORT exported would
 * otherwise reach whatever else listens on 127.0.0.1:8080. The record only says where to look; the
 * peer still has to identify itself (see identify.ts) before it gets any credential.
 */
export interface GatewayRecord {
  pid: number;
  url: string;
}

export function gatewayRecordFile(dataDir: string): string {
  return path.join(dataDir, 'gateway.json');
}

export function writeGatewayRecord(dataDir: string, record: GatewayRecord): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = gatewayRecordFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readGatewayRecord(dataDir: string): GatewayRecord | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(gatewayRecordFile(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(raw) as Partial<GatewayRecord>;
    if (typeof r.pid === 'number' && typeof r.url === 'string' && /^https?:\/\//.test(r.url)) return { pid: r.pid, url: r.url };
  } catch {
    /* unreadable: treated as absent */
  }
  return undefined;
}

/** Removes the record if it is this process's own (a later gateway may have replaced it). */
export function removeGatewayRecord(dataDir: string, pid = process.pid): void {
  if (readGatewayRecord(dataDir)?.pid !== pid) return;
  try {
    fs.unlinkSync(gatewayRecordFile(dataDir));
  } catch {
    /* already gone */
  }
}

/** The gateway's API as a local client reaches it: a wildcard bind address becomes loopback. */
export function localUrl(listenUrl: string): string {
  const u = new URL(listenUrl);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  else if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}
