// Preloaded into one process (`node --import`) by the clock-skew scenario: that process's wall clock runs
// CHAOS_CLOCK_SKEW_MS ahead (or behind, negative) of the machine's, as a host with a drifting clock would.
// Date.now() and new Date() are shifted; monotonic clocks (performance.now, timers) are not, as on a real host.
const skew = Number(process.env.CHAOS_CLOCK_SKEW_MS ?? 0);
if (skew) {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + skew);
      else super(...args);
    }
    static now() {
      return RealDate.now() + skew;
    }
  }
  globalThis.Date = SkewedDate;
}
