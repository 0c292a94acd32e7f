// How stale MSPipe lets a batch's memory be: batch i may fetch memory while the writes of up to k
// earlier batches have not landed. A fixed k, or `auto`: for each iteration the smallest k that keeps
// the device from waiting. With memory in host RAM, fetching batch i only after batch i − 1's write has
// landed leaves the device idle while the CPU prepares batch i (sampling, fetch, recording its
// commands); the device stays busy when the batches already queued take at least that long, i.e. when
// k · device time per batch ≥ CPU time per batch. `auto` measures both (moving averages) and picks
// k = ⌈CPU / device⌉, at least 1 and at most `maxK`.

export type StalenessSetting = number | 'auto';

/** Parses a staleness setting as typed: a non-negative integer or `auto`; `what` names it in the error. */
export function parseStaleness(text: string, what = '--staleness'): StalenessSetting {
  const trimmed = text.trim();
  if (trimmed === 'auto') return 'auto';
  if (!/^\d+$/.test(trimmed)) throw new Error(`${what} must be a non-negative integer or 'auto', got '${text}'`);
  return Number(trimmed);
}

export function isStalenessSetting(setting: unknown): setting is StalenessSetting {
  return setting === 'auto' || (Number.isSafeInteger(setting) && (setting as number) >= 0);
}

/** Refuses a setting that is neither a non-negative integer nor 'auto' (naming it). */
export function checkStaleness(setting: StalenessSetting): StalenessSetting {
  if (!isStalenessSetting(setting)) throw new RangeError(`staleness must be a non-negative integer or 'auto', got ${setting}`);
  return setting;
}

/** Weight of the newest measurement in the moving averages. */
const SMOOTHING = 0.2;

export class StalenessPolicy {
  private cpuMs = NaN;
  private deviceMs = NaN;
  readonly chosen: number[] = [];

  constructor(
    readonly setting: StalenessSetting,
    readonly maxK = 8,
  ) {
    checkStaleness(setting);
  }

  /** k for the next iteration (recorded). */
  next(): number {
    let k: number;
    if (this.setting !== 'auto') k = this.setting;
    else if (!(this.cpuMs > 0 && this.deviceMs > 0)) k = 1;
    else k = Math.min(this.maxK, Math.max(1, Math.ceil(this.cpuMs / this.deviceMs)));
    this.chosen.push(k);
    return k;
  }

  /** One iteration's CPU time (sample, fetch, record) and the device's time per batch (between landings). */
  measure(cpuMs: number, deviceMs: number): void {
    const blend = (old: number, value: number) => (Number.isNaN(old) ? value : old + SMOOTHING * (value - old));
    if (cpuMs > 0) this.cpuMs = blend(this.cpuMs, cpuMs);
    if (deviceMs > 0) this.deviceMs = blend(this.deviceMs, deviceMs);
  }

  summary(): { mean: number; max: number } {
    const n = this.chosen.length;
    return { mean: n ? this.chosen.reduce((a, b) => a + b, 0) / n : 0, max: n ? Math.max(...this.chosen) : 0 };
  }

  reset(): void {
    this.chosen.length = 0;
  }
}
