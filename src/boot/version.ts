import fs from 'node:fs';

/** The package's version: the nearest package.json up from this file (src/boot/ and dist/src/boot/ alike). */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    const file = new URL('package.json', dir);
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    if (dir.pathname === '/') throw new Error('package.json not found');
  }
}

export const VERSION: string = packageVersion();
