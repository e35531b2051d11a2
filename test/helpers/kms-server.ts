import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process stand-in for AWS KMS that speaks its wire protocol (JSON 1.1: `POST /` with
 * `X-Amz-Target: TrentService.<Operation>`), so tests run the real `@aws-sdk/client-kms` against it
 * (`endpoint` override). No KMS-compatible server can be installed on the test machines (moto is
 * PyPI-only, LocalStack needs Docker).
 *
 * It keeps KMS' contract where Tramline relies on it: a ciphertext names its key and is bound to the
 * encryption context (AES-GCM, the sorted context as associated data); Decrypt with another context
 * fails (InvalidCiphertextException), with another KeyId than the ciphertext's fails
 * (IncorrectKeyException); unknown keys are NotFoundException; a key can be denied (AccessDeniedException,
 * as a missing IAM grant answers). `stop()` and `start()` make an outage on the same port.
 * Signatures are not verified, but every request must be SigV4-signed; the region of each request's
 * credential scope is recorded.
 */
export interface KmsCall {
  op: string;
  keyArn: string | null;
  region: string | null;
}

export interface KmsStandIn {
  url: string;
  calls: KmsCall[];
  /** Creates a key; returns its ARN (`alias` also answers to alias/<name>). */
  createKey(region: string, alias?: string): string;
  /** Refuses `ops` (default: every operation) on the key, as a missing IAM grant does; `allow` lifts it. */
  deny(arn: string, ops?: string[]): void;
  allow(arn: string): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';

export async function startKmsStandIn(): Promise<KmsStandIn> {
  const material = new Map<string, Buffer>();
  const aliases = new Map<string, string>();
  const denied = new Map<string, Set<string> | 'all'>();
  const isDenied = (arn: string, op: string): boolean => {
    const d = denied.get(arn);
    return d === 'all' || (d?.has(op) ?? false);
  };
  const calls: KmsCall[] = [];

  const resolve = (keyId: string | undefined): string | null => {
    if (!keyId) return null;
    if (material.has(keyId)) return keyId;
    const alias = /(?:^|:)(alias\/.+)$/.exec(keyId)?.[1];
    if (alias) return aliases.get(alias) ?? null;
    for (const arn of material.keys()) if (arn.endsWith(`:key/${keyId}`)) return arn;
    return null;
  };
  const aad = (ctx: Record<string, string> | undefined): Buffer => Buffer.from(JSON.stringify(Object.entries(ctx ?? {}).sort()));

  class KmsError extends Error {
    constructor(
      readonly type: string,
      message: string,
    ) {
      super(message);
    }
  }

  function encrypt(arn: string, plaintext: Buffer, ctx: Record<string, string> | undefined): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', material.get(arn)!, iv).setAAD(aad(ctx));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const name = Buffer.from(arn, 'utf8');
    return Buffer.concat([Buffer.from([name.length]), name, iv, c.getAuthTag(), ct]);
  }

  function decrypt(blob: Buffer, ctx: Record<string, string> | undefined, keyId: string | undefined): { arn: string; plaintext: Buffer } {
    const len = blob[0] ?? 0;
    const arn = blob.subarray(1, 1 + len).toString('utf8');
    const key = material.get(arn);
    if (!key || blob.length < 1 + len + 28) throw new KmsError('InvalidCiphertextException', 'The ciphertext is invalid');
    if (keyId !== undefined && resolve(keyId) !== arn)
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify the key that encrypted the ciphertext');
    if (isDenied(arn, 'Decrypt')) throw new KmsError('AccessDeniedException', `User is not authorized to perform kms:Decrypt on ${arn}`);
    const raw = blob.subarray(1 + len);
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(aad(ctx));
    d.setAuthTag(raw.subarray(12, 28));
    try {
      return { arn, plaintext: Buffer.concat([d.update(raw.subarray(28)), d.final()]) };
    } catch {
      throw new KmsError('InvalidCiphertextException', 'The ciphertext or its encryption context is invalid');
    }
  }

  function keyFor(keyId: string | undefined, op: string): string {
    const arn = resolve(keyId);
    if (!arn) throw new KmsError('NotFoundException', `Key '${keyId}' does not exist`);
    if (isDenied(arn, op)) throw new KmsError('AccessDeniedException', `User is not authorized to perform kms:${op} on ${arn}`);
    return arn;
  }

  type Body = {
    KeyId?: string;
    Plaintext?: string;
    CiphertextBlob?: string;
    EncryptionContext?: Record<string, string>;
    NumberOfBytes?: number;
  };
  function handle(op: string, b: Body): { keyArn: string | null; out: Record<string, unknown> } {
    switch (op) {
      case 'Encrypt': {
        const arn = keyFor(b.KeyId, 'Encrypt');
        const blob = encrypt(arn, Buffer.from(b.Plaintext ?? '', 'base64'), b.EncryptionContext);
        return { keyArn: arn, out: { CiphertextBlob: blob.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
      }
      case 'Decrypt': {
        const { arn, plaintext } = decrypt(Buffer.from(b.CiphertextBlob ?? '', 'base64'), b.EncryptionContext, b.KeyId);
        return { keyArn: arn, out: { Plaintext: plaintext.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
      }
      case 'GenerateDataKey': {
        const arn = keyFor(b.KeyId, 'GenerateDataKey');
        const plaintext = randomBytes(b.NumberOfBytes ?? 32);
        const blob = encrypt(arn, plaintext, b.EncryptionContext);
        return { keyArn: arn, out: { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: arn } };
      }
      default:
        throw new KmsError('UnsupportedOperationException', `${op} is not implemented by the stand-in`);
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
      const region = /Credential=[^/]+\/\d{8}\/([\w-]+)\/kms\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? null;
      const reply = (status: number, body: Record<string, unknown>, type?: string): void => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomUUID(),
          ...(type ? { 'x-amzn-errortype': type } : {}),
        });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || !op) return reply(400, { __type: 'UnknownOperationException' }, 'UnknownOperationException');
      if (!region) return reply(400, { __type: 'MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' });
      try {
        const { keyArn, out } = handle(op, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Body);
        calls.push({ op, keyArn, region });
        reply(200, out);
      } catch (err) {
        calls.push({ op, keyArn: null, region });
        const type = err instanceof KmsError ? err.type : 'InternalException';
        reply(400, { __type: type, message: (err as Error).message }, type);
      }
    });
  });

  const listen = (port: number): Promise<void> =>
    new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', fail);
        ok();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const stop = (): Promise<void> =>
    new Promise((ok) => {
      if (!server.listening) return ok();
      server.close(() => ok());
      server.closeAllConnections();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    createKey(region, alias) {
      const arn = `arn:aws:kms:${region}:${ACCOUNT}:key/${randomUUID()}`;
      material.set(arn, randomBytes(32));
      if (alias) aliases.set(`alias/${alias}`, arn);
      return arn;
    },
    deny: (arn, ops) => void denied.set(arn, ops ? new Set(ops) : 'all'),
    allow: (arn) => void denied.delete(arn),
    stop,
    start: () => listen(port),
    close: stop,
  };
}
