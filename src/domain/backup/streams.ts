import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** A pass-through that counts and hashes (sha256) what flows through it. */
export function hashing(): Transform & { digest(): { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  let sha256: string | undefined;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return Object.assign(t, {
    digest() {
      sha256 ??= hash.digest('hex');
      return { sha256, bytes };
    },
  });
}

/** Lines of a text stream (without their `\n`), a batch per chunk: nothing is held beyond one chunk. */
export async function* lines(input: Readable): AsyncGenerator<string[]> {
  // The decoder keeps a character split across two chunks whole.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input) {
    const text = rest + decoder.write(chunk as Buffer);
    const parts = text.split('\n');
    rest = parts.pop()!;
    if (parts.length > 0) yield parts;
  }
  rest += decoder.end();
  if (rest !== '') yield [rest];
}

export async function readAll(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
