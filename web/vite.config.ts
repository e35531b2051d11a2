import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { build, defineConfig, type InlineConfig, type Plugin } from 'vite';

/**
 * One `vite build --config web/vite.config.ts` builds the three things the api role serves from dist/web/:
 *   dist/web/app/     the dashboard, served at /app/   (base /app/)
 *   dist/web/portal/  the consumer portal, at /portal/{tenant} (base /portal/)
 *   dist/web/embed.js the embed script (one IIFE, no dependencies)
 * Each is its own build (its own assets folder, no chunk shared across /app and /portal), chained from the
 * dashboard build's closeBundle so one command builds them all.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
// scripts/build.js builds into a fresh folder and swaps it in: it names that folder here.
const out = process.env.TRAMLINE_WEB_OUT ? path.resolve(process.env.TRAMLINE_WEB_OUT) : path.resolve(here, '../dist/web');

const shared = (name: 'app' | 'portal'): InlineConfig => ({
  configFile: false,
  root: path.join(here, name),
  base: `/${name}/`,
  plugins: [react()],
  logLevel: 'warn',
  build: { outDir: path.join(out, name), emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
});

function alsoBuildPortalAndEmbed(): Plugin {
  return {
    name: 'tramline-portal-and-embed',
    apply: 'build',
    async closeBundle() {
      await build(shared('portal'));
      await build({
        configFile: false,
        logLevel: 'warn',
        build: {
          outDir: out,
          emptyOutDir: false,
          target: 'es2020',
          lib: { entry: path.join(here, 'embed/embed.ts'), name: 'Tramline', formats: ['iife'], fileName: () => 'embed.js' },
        },
      });
    },
  };
}

export default defineConfig({ ...shared('app'), configFile: undefined, plugins: [react(), alsoBuildPortalAndEmbed()] });
