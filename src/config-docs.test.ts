import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from './config.ts';
import { configurationMarkdown, settings } from './config-docs.ts';

const doc = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/configuration.md'), 'utf8');

describe('docs/configuration.md', () => {
  it('names every setting of the config schema', () => {
    const missing = Object.keys(EnvSchema.shape).filter((name) => !doc.includes(`| \`${name}\` |`));
    expect(missing, 'settings missing from docs/configuration.md (run npm run docs:config)').toEqual([]);
  });

  it('describes every setting in the schema and gives its default', () => {
    for (const s of settings()) expect(s.description, s.name).not.toBe('');
    expect(settings().find((s) => s.name === 'PORT')?.default).toBe('8080');
    expect(settings().find((s) => s.name === 'TRAMLINE_DELIVERY_TIMEOUT')?.default).toBe('15s');
  });

  it('is what npm run docs:config writes (not edited by hand, not stale)', () => {
    expect(doc).toBe(configurationMarkdown());
  });
});
