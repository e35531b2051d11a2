import { deflateSync } from 'node:zlib';

/**
 * Generated app icons in a tenant's colour, for its web manifest: an SVG with the name's initial,
 * and PNGs (Chromium's installability check wants raster icons of 192 and 512 px) of a rounded
 * square with a white disc, drawn here rather than pulling in an image library.
 */
const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

export const safeColour = (c: string, fallback: string): string => (HEX.test(c) ? c : fallback);

function rgb(hex: string): [number, number, number] {
  const h = hex.length === 4 ? hex.slice(1).replace(/./g, (x) => x + x) : hex.slice(1);
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export function iconSvg(name: string, colour: string): string {
  const initial = escapeXml([...name.trim()][0]?.toUpperCase() ?? 'T');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">` +
    `<rect width="512" height="512" rx="96" fill="${colour}"/>` +
    `<text x="256" y="256" dy="0.35em" text-anchor="middle" font-family="system-ui, sans-serif" font-size="280" font-weight="700" fill="#ffffff">${initial}</text>` +
    `</svg>`
  );
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const cache = new Map<string, Buffer>();

/** A size × size PNG (RGBA): the colour filling the whole square (maskable-safe), a white disc in the middle. */
export function iconPng(colour: string, size: number): Buffer {
  const key = `${colour}:${size}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const [r, g, b] = rgb(colour);
  const rowLen = size * 4 + 1;
  const raw = Buffer.alloc(rowLen * size);
  const c = (size - 1) / 2;
  const disc = size * 0.22;
  for (let y = 0; y < size; y++) {
    raw[y * rowLen] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const o = y * rowLen + 1 + x * 4;
      // Anti-aliased edge of the disc: coverage over one pixel.
      const cover = Math.max(0, Math.min(1, disc + 0.5 - Math.hypot(x - c, y - c)));
      raw[o] = Math.round(r + (255 - r) * cover);
      raw[o + 1] = Math.round(g + (255 - g) * cover);
      raw[o + 2] = Math.round(b + (255 - b) * cover);
      raw[o + 3] = 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  if (cache.size > 200) cache.clear();
  cache.set(key, png);
  return png;
}
