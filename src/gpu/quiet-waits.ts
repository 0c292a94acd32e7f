// Waiting for the GPU without spinning a core. dawn.node settles mapAsync and onSubmittedWorkDone by
// calling wgpuInstanceProcessEvents from a setImmediate chain for as long as one is pending, which keeps
// Node's event loop busy the whole time. On a software adapter (lavapipe, SwiftShader) that core is taken
// from the device itself: measured on 2 cores, TGN trained at 483 events/s spinning and 678 sleeping.
// So before such a wait, sleep on a timer (the event loop idle) for most of the time the same wait took
// recently, and let the poll spin only for the rest. "The same wait" is the same kind (what is read back)
// after the same work: as many dispatches, and workgroups and bytes within 9 % (1/8 octave), so that a
// short wait never sleeps as long as a long one did (a benchmark timing a copy after an SpMM would). The
// estimate follows the shortest recent waits; a wait already over when its nap ends (a first one slowed by
// lazy initialisation, say) drops its estimate, and the next such wait spins and measures afresh. On a
// real GPU waits are short and no sleep happens. Browsers settle these promises from events, not a spin:
// there the waits are plain.

import type { WorkTally } from './step-encoder.ts';

/** Sleep for this fraction of the recent wait (the rest is polled, so an early finish costs little). */
const SLEEP_FRACTION = 0.8;
/** Below this a timer is too coarse (Node's resolution is a millisecond) to be worth it. */
const MIN_SLEEP_MS = 2;
/** A wait settled this soon after a nap was already done when the nap ended (the nap was too long). */
const OVERSHOT_MS = 0.5;
/** How far a longer wait moves the estimate up (a shorter one replaces it at once). */
const FOLLOW_LONGER = 0.3;

/** Kinds of wait remembered at most (a run's distinct shapes are few; beyond this, start afresh). */
const MAX_KINDS = 4096;

/** Where a wait reads the time and naps: the real clock, or a test's virtual one. */
export interface WaitClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_CLOCK: WaitClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** 1/8-octave buckets: two amounts in one bucket differ by less than 9 %. */
const bucket = (amount: number) => (amount > 0 ? Math.round(8 * Math.log2(amount)) : -1);

/** What identifies a wait: its kind and the shape of the work it waits for. */
export function waitKey(kind: string, work: WorkTally): string {
  return `${kind}|${work.dispatches}|${bucket(work.workgroups)}|${bucket(work.bytes)}`;
}

export class QuietWaits {
  /** Recent wait per key (see waitKey), in ms from submit to settled. */
  private readonly recentMs = new Map<string, number>();
  /** Total time slept, for reports. */
  sleptMs = 0;
  /** Waits not yet settled, and who waits for there to be none. */
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly enabled: boolean,
    private readonly clock: WaitClock = REAL_CLOCK,
  ) {}

  /**
   * Resolves when no wait is pending, before the code that awaited the last one goes on (a thread may
   * then exit safely: dawn.node aborts the process when a thread ends with a mapAsync unsettled).
   */
  whenIdle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Runs `start` (a mapAsync or onSubmittedWorkDone just after a submit) after sleeping through most of
   * the recent wait of this `kind` after the same `work`.
   */
  async wait<T>(kind: string, work: WorkTally, start: () => Promise<T>): Promise<T> {
    this.pending++;
    try {
      return await this.sleepThenWait(waitKey(kind, work), start);
    } finally {
      // Resolved before wait() returns, so whoever waits for idleness runs before the caller goes on.
      if (--this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async sleepThenWait<T>(key: string, start: () => Promise<T>): Promise<T> {
    if (!this.enabled) return start();
    const begin = this.clock.now();
    const recent = this.recentMs.get(key);
    const nap = recent === undefined ? 0 : recent * SLEEP_FRACTION;
    const napped = nap >= MIN_SLEEP_MS;
    if (napped) {
      await this.clock.sleep(nap);
      this.sleptMs += nap;
    }
    const polling = this.clock.now();
    const result = await start();
    const end = this.clock.now();
    if (napped && end - polling < OVERSHOT_MS) {
      // Done before the nap ended: how long it really takes is unknown, so the next such wait measures it.
      this.recentMs.delete(key);
      return result;
    }
    const took = end - begin;
    if (recent === undefined && this.recentMs.size >= MAX_KINDS) this.recentMs.clear();
    this.recentMs.set(key, recent === undefined || took < recent ? took : recent + FOLLOW_LONGER * (took - recent));
    return result;
  }
}
