// The browser step: a real Chromium walks the product's web UI as a user would and finds the probe's
// message there. Today the only web UI is the API docs at /docs (Swagger UI); when a dashboard exists,
// a check of it replaces this file (same signature).
import { accessSync, constants } from 'node:fs';
import type { Browser } from 'playwright-core';
import { StepError } from './step.ts';

/** Flags that let Debian's Chromium start headless in a container, offline (see DEPENDENCIES.md). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Swagger UI's element id for GET /v1/consumers/{consumer}/messages/{message} (tag `messages`). */
const GET_MESSAGE_OPERATION = '#operations-messages-get_v1_consumers__consumer__messages__message_';

export interface BrowserCheck {
  baseUrl: string;
  token: string;
  consumer: string;
  messageId: string;
  marker: string;
  chromiumPath: string;
  /** Per-action timeout inside the page. */
  actionTimeoutMs: number;
}

/** Why the browser step cannot run here, or undefined when it can. */
export function browserUnavailable(chromiumPath: string): string | undefined {
  try {
    accessSync(chromiumPath, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${chromiumPath} (set CHROMIUM_PATH)`;
  }
}

export async function checkInBrowser(c: BrowserCheck, signal: AbortSignal): Promise<void> {
  let browser: Browser | undefined;
  // The deadline aborts: close the browser so no Chromium outlives the step.
  const onAbort = (): void => void browser?.close().catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    // The probe's own shutdown lets the run finish; Playwright closing Chromium on the signal would fail it.
    // Loaded here, not at the top: playwright-core adds ~100 MiB to every process that imports it, and the
    // CLI that imports this file is also the gateway.
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: c.chromiumPath,
      args: CHROMIUM_ARGS,
      timeout: c.actionTimeoutMs,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    if (signal.aborted) throw signal.reason;
    const page = await browser.newPage();
    page.setDefaultTimeout(c.actionTimeoutMs);
    const res = await page.goto(`${c.baseUrl.replace(/\/+$/, '')}/docs`);
    if (!res || res.status() !== 200) throw new StepError(`/docs answered ${res?.status() ?? 'nothing'}`);

    await page.getByRole('button', { name: 'Authorize' }).first().click();
    await page.locator('#auth-bearer-value').first().fill(c.token);
    await page.getByRole('button', { name: 'Apply credentials' }).first().click();
    await page.getByRole('button', { name: 'Close' }).first().click();

    const op = page.locator(GET_MESSAGE_OPERATION);
    await op.locator('.opblock-summary').first().click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    await op.locator('input[placeholder="consumer"]').fill(c.consumer);
    await op.locator('input[placeholder="message"]').fill(c.messageId);
    await op.getByRole('button', { name: 'Execute' }).click();

    const responses = op.locator('.live-responses-table');
    await responses.locator('.response-col_description pre').first().waitFor();
    const text = await responses.innerText();
    if (!text.includes(c.marker)) {
      const status = /\n(\d{3})\s/.exec(text)?.[1] ?? 'unknown';
      throw new StepError(`the docs page showed the message without the marker (status ${status})`);
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    // Playwright's messages carry a multi-line call log: the first line says what failed.
    throw err instanceof StepError ? err : new StepError(`in /docs: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await browser?.close().catch(() => {});
  }
}
