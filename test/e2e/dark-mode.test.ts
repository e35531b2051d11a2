// Dark mode (prefers-color-scheme: dark emulated) and the password reset page, in real Chromium: axe-core
// finds no serious or critical violation on the dashboard's screens, the reset page and the portal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { expectAccessible, hasBrowser, signIn, startWorld, until, type World } from './browser.ts';

declare const document: { documentElement: { dataset: Record<string, string | undefined> } };

const screens = ['Overview', 'Consumers', 'Messages', 'Event types', 'API keys', 'Users', 'Audit log', 'Settings'];
const modeOf = (page: Page) => page.evaluate(() => document.documentElement.dataset.mode ?? null);

async function openScreen(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  await until(async () => (await page.locator('.state.loading').count()) === 0, `${name} to load`);
}

describe.skipIf(!hasBrowser())('dark mode and password reset', () => {
  let w: World;
  let receiver: Receiver;
  let consumer = '';
  let messageId = '';
  beforeAll(async () => {
    w = await startWorld('Hooli');
    receiver = await startReceiver();
    const api = w.tenant.api;
    consumer = (await api.post('/v1/consumers', { name: 'Pied Piper', uid: 'piper' })).body.id;
    await api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${receiver.url}/hooks` });
    await api.post('/v1/event-types', { name: 'order.paid', description: 'An order was paid', schema: { type: 'object' } });
    messageId = (await api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'order.paid', payload: { n: 1 } })).body.id;
    await receiver.waitFor(1);
  });
  afterAll(async () => {
    await receiver?.close();
    await w?.stop();
  });

  it('the dashboard in dark mode: every main screen, a consumer and a message pass axe', async () => {
    const context = await w.browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${w.gw.url}/app/`);
    await page.getByRole('heading', { name: 'Sign in to Tramline' }).waitFor();
    expect(await modeOf(page)).toBe('dark');
    await expectAccessible(page, 'sign-in (dark)');
    await signIn(page, w.gw.url, w.owner);
    await until(async () => (await modeOf(page)) === 'dark', 'the dark theme');
    for (const name of screens) {
      await openScreen(page, name);
      await expectAccessible(page, `${name} (dark)`);
    }
    await page.goto(`${w.gw.url}/app/consumers/${consumer}`);
    await page.getByRole('heading', { name: 'Pied Piper' }).waitFor();
    await expectAccessible(page, 'consumer (dark)');
    await page.goto(`${w.gw.url}/app/consumers/${consumer}/messages/${messageId}`);
    await page.locator('.attempt').first().waitFor();
    await expectAccessible(page, 'message (dark)');
    await context.close();
  });

  it('the portal in dark mode passes axe', async () => {
    await w.tenant.api.patch('/v1/settings', { branding: { mode: 'auto' } });
    const session = await w.tenant.api.post(`/v1/consumers/${consumer}/portal-sessions`, {});
    expect(session.status).toBe(201);
    const context = await w.browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(session.body.url.startsWith('http') ? session.body.url : `${w.gw.url}${session.body.url}`);
    await page.getByRole('heading', { name: 'Endpoints' }).first().waitFor();
    await until(async () => (await page.locator('.state.loading').count()) === 0, 'the portal to load');
    expect(await modeOf(page)).toBe('dark');
    await expectAccessible(page, 'portal (dark)');
    await context.close();
  });

  it('an owner issues a reset link; the user sets a new password on the reset page and is signed out elsewhere', async () => {
    const invited = await w.tenant.api.post('/v1/users', { email: 'gavin@hooli.test', role: 'developer' });
    const old = 'gavin old password 0123';
    expect(
      (
        await fetch(`${w.gw.url}/v1/auth/accept-invite`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: invited.body.inviteToken, password: old }),
        })
      ).status,
    ).toBe(200);
    const elsewhere = await w.browser.newContext();
    const gavinPage = await elsewhere.newPage();
    await signIn(gavinPage, w.gw.url, { email: 'gavin@hooli.test', password: old });

    const ownerContext = await w.browser.newContext({ colorScheme: 'dark' });
    const owner = await ownerContext.newPage();
    await signIn(owner, w.gw.url, w.owner);
    await openScreen(owner, 'Users');
    await owner.getByRole('listitem').filter({ hasText: 'gavin@hooli.test' }).getByRole('button', { name: 'Password reset link' }).click();
    const link = await owner.getByRole('status').filter({ hasText: 'password reset link' }).locator('code').textContent();
    expect(link).toMatch(/\/app\/reset-password#token=tlr_/);
    await expectAccessible(owner, 'users with a reset link (dark)');

    const resetContext = await w.browser.newContext({ colorScheme: 'dark' });
    const page = await resetContext.newPage();
    await page.goto(link!);
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await expectAccessible(page, 'reset page (dark)');
    await page.getByLabel('New password', { exact: true }).fill('gavin new password 4567');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Your password is changed').waitFor();
    expect(page.url()).not.toContain('tlr_');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in to Tramline' }).waitFor();
    await page.getByLabel('Email').fill('gavin@hooli.test');
    await page.getByLabel('Password').fill('gavin new password 4567');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();

    // The session opened before the reset is over.
    await gavinPage.reload();
    await gavinPage.getByRole('heading', { name: 'Sign in to Tramline' }).waitFor();
    // The link worked once.
    const again = await resetContext.newPage();
    await again.goto(link!);
    await again.getByLabel('New password', { exact: true }).fill('gavin third password 89');
    await again.getByRole('button', { name: 'Set password' }).click();
    await again.getByText(/not valid, was used already, or has expired/).waitFor();
    for (const c of [elsewhere, ownerContext, resetContext]) await c.close();
  });
});
