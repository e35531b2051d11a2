// The browser step: a real Chromium walks the dashboard (/app) as a user would — signs in through the
// form, opens the probe's message from its consumer's message log, sees the attempt that delivered it,
// and signs out (so no session is left behind per run).
import { accessSync, constants } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { DashboardLogin } from './dashboard-user.ts';
import { StepError } from './step.ts';

/** Flags that let Debian's Chromium start headless in a container, offline (see DEPENDENCIES.md). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface BrowserCheck {
  baseUrl: string;
  login: DashboardLogin;
  /** The probe consumer's uid (the dashboard's consumer pages take a uid or an id). */
  consumer: string;
  messageId: string;
  marker: string;
  chromiumPath: string;
  /** Per-action timeout inside the page. */
  actionTimeoutMs: number;
}

/** Thrown when the sign-in form refuses the probe's password: the caller forgets it and makes a new user next run. */
export class SignInRefused extends StepError {}

type Playwright = typeof import('playwright-core');

/**
 * Why the browser step cannot run here, or undefined when it can. Loaded here, not at the top:
 * playwright-core adds ~100 MiB to every process that imports it, and the CLI that imports this file is
 * also the gateway; an image built without it still runs every other step.
 */
export async function browserUnavailable(chromiumPath: string): Promise<string | undefined> {
  try {
    accessSync(chromiumPath, constants.X_OK);
  } catch {
    return `no Chromium at ${chromiumPath} (set CHROMIUM_PATH): the dashboard walk did not run`;
  }
  try {
    await loadPlaywright();
  } catch (err) {
    return `playwright-core cannot be loaded (${(err as Error).message.split('\n')[0]}): the dashboard walk did not run`;
  }
  return undefined;
}

let playwright: Promise<Playwright> | undefined;
const loadPlaywright = (): Promise<Playwright> => (playwright ??= import('playwright-core'));

export async function checkInBrowser(c: BrowserCheck, signal: AbortSignal): Promise<void> {
  let browser: Browser | undefined;
  // The deadline aborts: close the browser so no Chromium outlives the step.
  const onAbort = (): void => void browser?.close().catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  let where = 'starting Chromium';
  try {
    const { chromium } = await loadPlaywright();
    // The probe's own shutdown lets the run finish; Playwright closing Chromium on the signal would fail it.
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
    const base = c.baseUrl.replace(/\/+$/, '');

    where = 'opening /app';
    const res = await page.goto(`${base}/app/`);
    if (!res || res.status() !== 200)
      throw new StepError(`/app answered ${res?.status() ?? 'nothing'} (does the gateway serve the dashboard? see dist/web)`);

    where = 'signing in';
    await signIn(page, c.login);

    where = 'opening the message';
    // Straight to the probe's consumer (a tenant may have more consumers than a list page shows), then as a user.
    await page.goto(`${base}/app/consumers/${encodeURIComponent(c.consumer)}`);
    await page.getByRole('group', { name: 'Show' }).getByRole('button', { name: 'Messages' }).click();
    const find = page.getByRole('search', { name: 'Find a message' });
    await find.getByLabel('Message id or event id').fill(c.messageId);
    await find.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('heading', { level: 2, name: `Message ${c.messageId}` }).waitFor();
    await page.getByLabel('Payload').filter({ hasText: c.marker }).waitFor();

    where = 'looking for its attempt';
    // The attempt that delivered to the probe: the screen polls, so a late record still shows up.
    await page.locator('.attempt[data-outcome="succeeded"]').first().waitFor();

    where = 'signing out';
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Tramline' }).waitFor();
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    // Playwright's messages carry a multi-line call log: the first line says what failed.
    if (err instanceof StepError) throw err;
    throw new StepError(`dashboard, ${where}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await browser?.close().catch(() => {});
  }
}

async function signIn(page: Page, login: DashboardLogin): Promise<void> {
  await page.getByLabel('Email').fill(login.email);
  await page.getByLabel('Password').fill(login.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const signedIn = page.getByRole('navigation', { name: 'Main' });
  const refused = page.getByRole('alert');
  await signedIn.or(refused).first().waitFor();
  if (await signedIn.isVisible()) return;
  const why = ((await refused.first().textContent()) ?? '').trim();
  if (/wrong email or password/i.test(why)) throw new SignInRefused(`dashboard sign-in refused the probe's user ${login.email}: ${why}`);
  throw new StepError(`dashboard sign-in failed: ${why || 'an error without text'}`);
}
