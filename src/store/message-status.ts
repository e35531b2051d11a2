/**
 * A message's status, derived from its deliveries (one per endpoint it was sent to), as the dashboard
 * shows it and `?status=` filters by it:
 *   pending    some delivery is still under way (waiting, retrying or being sent);
 *   succeeded  every delivery succeeded;
 *   failed     nothing is under way and some delivery did not succeed (it failed, or ended in any other
 *              state than succeeded): the message needs attention (resend, recover);
 *   none       no endpoint was subscribed to it, so there is nothing to deliver.
 * The SQL below and `messageStatusOf` say the same thing; a test holds them together on both engines.
 */
export const MESSAGE_STATUSES = ['pending', 'succeeded', 'failed', 'none'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

const IN_PROGRESS = ['pending', 'sending'];

export function messageStatusOf(deliveryStates: readonly string[]): MessageStatus {
  if (deliveryStates.length === 0) return 'none';
  if (deliveryStates.some((s) => IN_PROGRESS.includes(s))) return 'pending';
  return deliveryStates.every((s) => s === 'succeeded') ? 'succeeded' : 'failed';
}

/** One row with the status of the message whose id is `messageId` (an SQL expression); for a LATERAL join. */
export const messageStatusSql = (messageId: string): string => `(
  SELECT CASE WHEN count(*) = 0 THEN 'none'
              WHEN bool_or(d.state IN (${IN_PROGRESS.map((s) => `'${s}'`).join(', ')})) THEN 'pending'
              WHEN bool_and(d.state = 'succeeded') THEN 'succeeded'
              ELSE 'failed' END AS status
  FROM deliveries d WHERE d.message_id = ${messageId})`;
