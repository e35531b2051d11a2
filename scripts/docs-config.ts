// Writes docs/configuration.md from the config schema (src/config.ts). `npm run docs:config`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configurationMarkdown } from '../src/config-docs.ts';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/configuration.md');
fs.writeFileSync(file, configurationMarkdown());
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
