// The one seam between environments: Node (dawn.node) and the browser (navigator.gpu) each supply a provider.

import type { AdapterDescription } from './adapter-description.ts';

export interface AdapterRequest {
  /** An adapter name from `listAdapters()` ('lavapipe', 'swiftshader', a hardware device name), or undefined for the best. */
  name?: string;
  /** Dawn toggles to enable (e.g. 'allow_unsafe_apis'); ignored in browsers. */
  toggles?: string[];
}

export interface ProvidedAdapter {
  adapter: GPUAdapter;
  description: AdapterDescription;
  /** What must stay referenced while the device lives (dawn.node's instance: if it is garbage
   * collected while the device still has work in flight, the process aborts). */
  owner?: unknown;
  /** Sleep through most of each wait for the device, where waiting would busy-poll the event loop (dawn.node; see QuietWaits). */
  quietWaits?: boolean;
}

export interface GpuProvider {
  /** A fresh adapter each call: dawn.node gives one device per adapter. */
  requestAdapter(request?: AdapterRequest): Promise<ProvidedAdapter>;
  listAdapters(): Promise<AdapterDescription[]>;
}

export class NoAdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoAdapterError';
  }
}
