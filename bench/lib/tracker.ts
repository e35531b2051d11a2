import type { Arrival } from './receiver.ts';

/**
 * Publish → delivered latency: joins each accepted publish (id, time it was meant to be sent) with its
 * first arrival at the receiver, whichever of the two is seen first. Only matched pairs count as
 * delivered, so stragglers of an earlier step never inflate this one.
 */
export class LatencyTracker {
  private readonly sent = new Map<string, number>();
  private readonly early = new Map<string, number>();
  private readonly ignoredEarly = new Set<string>();
  readonly latencies: number[] = [];
  published = 0;
  delivered = 0;

  /** ignorePath: arrivals on these paths are not measured (e.g. the slow receivers), and do not count as delivered. */
  constructor(private readonly ignorePath?: (path: string) => boolean) {}

  readonly onAccepted = (id: string, sentAt: number): void => {
    if (this.ignoredEarly.delete(id)) return;
    this.published++;
    const arrived = this.early.get(id);
    if (arrived !== undefined) {
      this.early.delete(id);
      this.delivered++;
      this.latencies.push(arrived - sentAt);
    } else this.sent.set(id, sentAt);
  };

  readonly onArrivals = (batch: Arrival[]): void => {
    for (const a of batch) {
      if (this.ignorePath?.(a.path)) {
        // Not measured: also not waited for.
        if (this.sent.delete(a.id)) this.published--;
        else this.ignoredEarly.add(a.id);
        continue;
      }
      const sentAt = this.sent.get(a.id);
      if (sentAt !== undefined) {
        this.sent.delete(a.id);
        this.delivered++;
        this.latencies.push(a.at - sentAt);
      } else this.early.set(a.id, a.at);
    }
  };

  /** Published but not (yet) seen at the receiver. */
  get backlog(): number {
    return this.published - this.delivered;
  }
}
