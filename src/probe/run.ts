// One probe run: the whole product flow a user depends on, step by step, each timed and bounded.
import { randomBytes } from 'node:crypto';
import { verify } from '../domain/signing.ts';
import { apiClient, type ApiClient } from './api.ts';
import { browserUnavailable, checkInBrowser, SignInRefused } from './browser.ts';
import { ensureDashboardLogin, type ProbeMemory } from './dashboard-user.ts';
import { RECEIVER_PATH, type Delivery, type Receiver } from './receiver.ts';
import { ensureProbeTarget, PROBE_EVENT_TYPE, type ProbeTarget } from './setup.ts';
import { runStep, skipped, StepError, STEPS, toSeconds, withDeadline, type StepName, type StepResult } from './step.ts';

export interface ProbeSettings {
  /** The gateway's base URL. */
  url: string;
  token: string;
  /** uid of the probe's consumer on the tenant. */
  consumer: string;
  /** Base URL the gateway should deliver to (the receiver as the gateway sees it). */
  publicUrl: string;
  timeoutMs: number;
  /** Path of the Chromium binary, or null when the browser step is switched off. */
  chromiumPath: string | null;
}

export interface ProbeResult {
  ok: boolean;
  /** The first step that failed. */
  failedStep: StepName | null;
  error: string | null;
  startedAt: string;
  marker: string;
  messageId: string | null;
  endpointId: string | null;
  /** What setup created or repaired this run (empty when everything was reused). */
  setupChanges: string[];
  /** The publish request's round trip. */
  publishSeconds: number | null;
  /** From sending the publish request to the delivery arriving at the receiver. */
  publishToDeliveredSeconds: number | null;
  steps: Record<StepName, StepResult>;
}

const POLL_MS = 100;
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

interface MessageDetail {
  id: string;
  payload: { marker?: string } | null;
  deliveries: { endpointId: string; state: string; attempts: number; lastStatus: number | null; lastError: string | null }[];
}

/**
 * `memory` carries what one probe process learns across its runs (the dashboard user's password): loop
 * mode passes the same object every run.
 */
export async function runProbe(
  s: ProbeSettings,
  receiver: Receiver,
  clock: () => number = Date.now,
  memory: ProbeMemory = {},
): Promise<ProbeResult> {
  const api = apiClient(s.url, s.token);
  const startedAt = new Date(clock()).toISOString();
  const marker = `probe_${clock().toString(36)}_${randomBytes(6).toString('hex')}`;
  const steps = Object.fromEntries(STEPS.map((n) => [n, skipped('not reached')])) as Record<StepName, StepResult>;
  const result: ProbeResult = {
    ok: false,
    failedStep: null,
    error: null,
    startedAt,
    marker,
    messageId: null,
    endpointId: null,
    setupChanges: [],
    publishSeconds: null,
    publishToDeliveredSeconds: null,
    steps,
  };
  const consumerPath = `/v1/consumers/${encodeURIComponent(s.consumer)}`;

  const setup = await runStep('setup', s.timeoutMs, (signal) =>
    ensureProbeTarget(api, s.consumer, `${s.publicUrl.replace(/\/+$/, '')}${RECEIVER_PATH}`, signal),
  );
  steps.setup = setup.result;
  const target: ProbeTarget | undefined = setup.value;
  if (target) {
    result.endpointId = target.endpointId;
    result.setupChanges = target.changes;

    const expected = receiver.expect(marker);
    let sentAt = 0;
    const publish = await runStep('publish', s.timeoutMs, async (signal) => {
      sentAt = performance.now();
      const r = await api.request<{ id: string }>('POST', `${consumerPath}/messages`, {
        body: { eventType: PROBE_EVENT_TYPE, eventId: marker, payload: { marker, sentAt: startedAt } },
        signal,
        accept: [202],
      });
      result.publishSeconds = toSeconds(performance.now() - sentAt);
      return r.body.id;
    });
    steps.publish = publish.result;
    const messageId = publish.value;
    if (messageId) {
      result.messageId = messageId;
      const deliver = await runStep('deliver', s.timeoutMs, async () => {
        const d = await expected.delivered;
        if (d.headers.id !== messageId)
          throw new StepError(`the delivery's webhook-id ${d.headers.id} is not the published message ${messageId}`);
        result.publishToDeliveredSeconds = toSeconds(d.receivedAt - sentAt);
        return d;
      });
      steps.deliver = deliver.result;
      if (!deliver.value) {
        const timedOut = steps.deliver.detail?.includes('timed out') === true;
        const why = timedOut ? `deliver: no delivery arrived at ${target.endpointUrl} within ${s.timeoutMs / 1000}s` : steps.deliver.detail;
        steps.deliver.detail = `${why}${await deliveryState(api, consumerPath, messageId, target.endpointId)}`;
      }
      const delivery: Delivery | undefined = deliver.value;
      if (delivery) {
        steps.signature = (
          await runStep('signature', s.timeoutMs, async () => {
            const v = verify(target.secret, delivery.headers, delivery.body, Math.floor(clock() / 1000));
            if (!v.ok) throw new StepError(`the webhook signature does not verify with the endpoint secret: ${v.reason}`);
          })
        ).result;
        steps.readback = (
          await runStep('readback', s.timeoutMs, (signal) => readBack(api, consumerPath, messageId, marker, target.endpointId, signal))
        ).result;
      }
      steps.browser = await browserStep(s, api, memory, messageId, marker, result.setupChanges);
    }
    expected.cancel();
  }

  const failed = STEPS.find((n) => steps[n].status === 'failed') ?? null;
  result.failedStep = failed;
  result.error = failed ? (steps[failed].detail ?? `${failed} failed`) : null;
  result.ok = failed === null;
  return result;
}

/** The message reads back with its marker, its delivery to the probe endpoint succeeded, and the attempt log says so. */
async function readBack(
  api: ApiClient,
  consumerPath: string,
  messageId: string,
  marker: string,
  endpointId: string,
  signal: AbortSignal,
): Promise<void> {
  // The receiver answers before the gateway records the attempt: poll until the record lands.
  for (;;) {
    const m = (await api.request<MessageDetail>('GET', `${consumerPath}/messages/${messageId}`, { signal })).body;
    if (m.payload?.marker !== marker) throw new StepError(`GET message ${messageId} does not carry the marker ${marker}`);
    const d = m.deliveries.find((x) => x.endpointId === endpointId);
    if (!d) throw new StepError(`GET message ${messageId} lists no delivery to the probe endpoint ${endpointId}`);
    if (d.state === 'succeeded') break;
    if (d.state === 'failed') throw new StepError(`the delivery is recorded as failed (${d.lastError ?? d.lastStatus ?? 'no detail'})`);
    await sleep(POLL_MS, signal);
  }
  const attempts = (
    await api.request<{ data: { endpointId: string; outcome: string; statusCode: number | null }[] }>(
      'GET',
      `${consumerPath}/messages/${messageId}/attempts`,
      { signal },
    )
  ).body;
  if (!attempts.data.some((a) => a.endpointId === endpointId && a.outcome === 'succeeded')) {
    throw new StepError(`the attempt log of ${messageId} shows no successful attempt to the probe endpoint`);
  }
}

/** For a failed delivery: what the gateway says about it, so the error points at the cause. Best effort. */
async function deliveryState(api: ApiClient, consumerPath: string, messageId: string, endpointId: string): Promise<string> {
  try {
    const m = await withDeadline('deliver', 3000, (signal) =>
      api.request<MessageDetail>('GET', `${consumerPath}/messages/${messageId}`, { signal }),
    );
    const d = m.body.deliveries.find((x) => x.endpointId === endpointId);
    if (!d) return ' (the gateway lists no delivery to the probe endpoint)';
    const last = d.lastError ?? (d.lastStatus !== null ? `HTTP ${d.lastStatus}` : null);
    return ` (the gateway says: delivery ${d.state}, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${last ? `, last: ${last}` : ''})`;
  } catch {
    return '';
  }
}

/**
 * The dashboard walk. Its user is set up here rather than in `setup`: without a browser, no dashboard
 * user is made at all.
 */
async function browserStep(
  s: ProbeSettings,
  api: ApiClient,
  memory: ProbeMemory,
  messageId: string,
  marker: string,
  changes: string[],
): Promise<StepResult> {
  if (s.chromiumPath === null) return skipped('switched off (--no-browser)');
  const unavailable = await browserUnavailable(s.chromiumPath);
  if (unavailable) return skipped(unavailable);
  const chromiumPath = s.chromiumPath;
  return (
    await runStep('browser', s.timeoutMs, async (signal) => {
      const { login, changes: made } = await ensureDashboardLogin(api, s.url, s.consumer, memory, signal);
      changes.push(...made);
      try {
        await checkInBrowser(
          { baseUrl: s.url, login, consumer: s.consumer, messageId, marker, chromiumPath, actionTimeoutMs: s.timeoutMs },
          signal,
        );
      } catch (err) {
        // Someone changed or reset the probe user's password: the next run makes a new user.
        if (err instanceof SignInRefused) delete memory.login;
        throw err;
      }
    })
  ).result;
}
