// What the kernel page exposes on `window.kernelPage`, shared by the page and the Playwright spec.

/** The adapter the page ran on, or why there is none. */
export interface PageAdapter {
  /** Null when WebGPU gave no adapter; `reason` then says why. */
  name: string | null;
  kind: string | null;
  vendor: string;
  architecture: string;
  description: string;
  subgroupSizes: [number, number] | null;
  userAgent: string;
  reason: string | null;
}

export interface CaseResult {
  name: string;
  ok: boolean;
  /** The error message (with the first stack lines) when the case failed. */
  error: string | null;
  ms: number;
}

/** The device a subgroup mode runs on, or why it could not be opened. */
export interface PageDevice {
  label: string;
  /** Whether its kernels were compiled with SUBGROUPS. */
  subgroups: boolean;
  error: string | null;
}

export interface KernelPageApi {
  /** Names of every case in the shared list, in order. */
  names(): string[];
  /** Describes the adapter the browser offers; never throws. */
  adapter(): Promise<PageAdapter>;
  /** Opens (or reuses) the device of one subgroup mode and describes it; never throws. */
  device(options: { subgroups: boolean }): Promise<PageDevice>;
  /** Runs one case by name on a device opened with or without subgroups (devices are kept per mode). */
  runCase(name: string, options: { subgroups: boolean }): Promise<CaseResult>;
  /** Runs every case (or those named), in order. */
  runKernelCases(options: { subgroups: boolean; names?: string[] }): Promise<CaseResult[]>;
}

declare global {
  interface Window {
    /** Set by the kernel page (main.ts). */
    kernelPage: KernelPageApi;
  }
}
