import { ensureBuilt } from '../scripts/build.js';

/**
 * Tests start the real CLI (`node bin/tramline.js`), which runs dist/: build it once before any test file
 * when it is missing or older than the sources, rather than in the first test that happens to spawn it.
 */
export default function setup(): void {
  ensureBuilt();
}
