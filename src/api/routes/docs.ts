import Fastify from 'fastify';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';

/**
 * The API reference at /docs: Scalar's reader over /openapi.json, served by the gateway itself and
 * fully offline — its script comes from the installed package (never a CDN), no web fonts are fetched,
 * telemetry and the hosted AI/MCP helpers are off.
 *
 * The page is ours rather than the plugin's: the configuration travels in a data attribute that Scalar's
 * standalone script reads, so the page has no inline script and the global Content-Security-Policy
 * (script-src 'self') holds for it unchanged. The script is taken from @scalar/fastify-api-reference once,
 * on the first request for it, by asking the plugin inside a throwaway instance that never listens.
 */
export const DOCS_PATH = '/docs';
const SCRIPT_PATH = '/docs/scalar.js';

const CONFIGURATION = {
  metaData: { title: 'Tramline API' },
  theme: 'none',
  layout: 'modern',
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: true,
  showDeveloperTools: 'never',
  showToolbar: 'never',
  documentDownloadType: 'json',
  operationTitleSource: 'summary',
  defaultOpenAllTags: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  customCss: `
    .light-mode, .dark-mode { --scalar-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; --scalar-font-code: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
    .light-mode { --scalar-color-accent: #0b6e4f; --scalar-background-1: #ffffff; --scalar-background-2: #f5f7f6; --scalar-color-1: #14201b; }
    .dark-mode { --scalar-color-accent: #3ddc97; --scalar-background-1: #0f1714; --scalar-background-2: #16211c; --scalar-color-1: #e8f1ec; }
  `,
};

const escapeAttribute = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const page = (openapiUrl: string): string => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Tramline API</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <noscript>The Tramline API reference needs JavaScript. The OpenAPI document itself is at <a href="${openapiUrl}">${openapiUrl}</a>.</noscript>
    <script id="api-reference" data-url="${openapiUrl}" data-configuration="${escapeAttribute(JSON.stringify(CONFIGURATION))}"></script>
    <script src="${SCRIPT_PATH}"></script>
  </body>
</html>
`;

let script: Promise<string> | null = null;

async function loadScalarScript(): Promise<string> {
  const scratch = Fastify({ logger: false });
  try {
    await scratch.register(scalar, { routePrefix: '/reference', configuration: { url: '/openapi.json' } });
    const res = await scratch.inject({ method: 'GET', url: '/reference/js/scalar.js' });
    if (res.statusCode !== 200) throw new Error(`@scalar/fastify-api-reference answered ${res.statusCode} for its script`);
    return res.body;
  } finally {
    await scratch.close();
  }
}

export function docsRoutes(app: FastifyInstance, o: { openapiUrl: string }): void {
  const html = page(o.openapiUrl);
  app.get(DOCS_PATH, { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html),
  );
  app.get(SCRIPT_PATH, { schema: { hide: true } }, async (_req, reply) => {
    script ??= loadScalarScript().catch((err: unknown) => {
      script = null;
      throw err;
    });
    return reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(await script);
  });
}
