/** A wake-up that came while the loop was busy claiming is kept, not lost. */
export interface Wakeup {
  wake(): void;
  /** Resolves at the next wake-up, or after `ms`. */
  wait(ms: number): Promise<void>;
}

export function createWakeup(): Wakeup {
  let kick: (() => void) | undefined;
  let woken = false;
  return {
    wake() {
      if (kick) kick();
      else woken = true;
    },
    wait(ms) {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          kick = undefined;
          woken = false;
          resolve();
        }
        kick = done;
      });
    },
  };
}
