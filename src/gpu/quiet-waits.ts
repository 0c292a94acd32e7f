// Waiting for the GPU without spinning a core. dawn.node settles mapAsync and onSubmittedWorkDone by
// calling wgpuInstanceProcessEvents from a setImmediate chain for as long as one is pending, which keeps
// Node's event loop busy the whole time. On a software adapter (lavapipe, SwiftShader) that core is taken
// from the device itself: measured on 2 cores, TGN trained at 483 events/s spinning and 678 sleeping.
// So before such a wait, sleep on a timer (the event loop idle) for most of the time the same kind of wait
// took recently, and let the poll spin only for the rest. The estimate follows the shortest recent waits,
// so a sleep overshoots rarely and shrinks when it does; on a real GPU waits are short and no sleep happens.
// Browsers settle these promises from events, not a spin: there the waits are plain.

/** Sleep for this fraction of the recent wait (the rest is polled, so an early finish costs little). */
const SLEEP_FRACTION = 0.8;
/** Below this a timer is too coarse (Node's resolution is a millisecond) to be worth it. */
const MIN_SLEEP_MS = 2;
/** How far a longer wait moves the estimate up (a shorter one replaces it at once). */
const FOLLOW_LONGER = 0.3;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class QuietWaits {
  /** Recent wait per kind (e.g. the label of the buffer read back), in ms from submit to settled. */
  private readonly recentMs = new Map<string, number>();
  /** Total time slept, for reports. */
  sleptMs = 0;
  /** Waits not yet settled, and who waits for there to be none. */
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(readonly enabled: boolean) {}

  /**
   * Resolves when no wait is pending, before the code that awaited the last one goes on (a thread may
   * then exit safely: dawn.node aborts the process when a thread ends with a mapAsync unsettled).
   */
  whenIdle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs `start` (a mapAsync or onSubmittedWorkDone just after a submit) after sleeping through most of the recent wait of this `kind`. */
  async wait<T>(kind: string, start: () => Promise<T>): Promise<T> {
    this.pending++;
    try {
      return await this.sleepThenWait(kind, start);
    } finally {
      // Resolved before wait() returns, so whoever waits for idleness runs before the caller goes on.
      if (--this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async sleepThenWait<T>(kind: string, start: () => Promise<T>): Promise<T> {
    if (!this.enabled) return start();
    const begin = performance.now();
    const recent = this.recentMs.get(kind);
    const nap = recent === undefined ? 0 : recent * SLEEP_FRACTION;
    if (nap >= MIN_SLEEP_MS) {
      await sleep(nap);
      this.sleptMs += nap;
    }
    const result = await start();
    const took = performance.now() - begin;
    this.recentMs.set(kind, recent === undefined || took < recent ? took : recent + FOLLOW_LONGER * (took - recent));
    return result;
  }
}
