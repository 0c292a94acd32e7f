// Browser adapters: there is one `navigator.gpu`, and the browser chooses the adapter.

import { describeAdapter, type AdapterDescription } from './adapter-description.ts';
import { NoAdapterError, type AdapterRequest, type GpuProvider, type ProvidedAdapter } from './provider.ts';

export function webgpuUnavailableReason(): string | null {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    return 'This browser does not expose WebGPU (navigator.gpu is missing). Use a recent Chromium, Chrome or Edge; on Linux start it with --enable-unsafe-webgpu, and serve the page from https or http://127.0.0.1.';
  }
  return null;
}

export class BrowserGpuProvider implements GpuProvider {
  async requestAdapter(req: AdapterRequest = {}): Promise<ProvidedAdapter> {
    const reason = webgpuUnavailableReason();
    if (reason) throw new NoAdapterError(reason);
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new NoAdapterError('navigator.gpu.requestAdapter() returned no adapter: WebGPU is disabled or unsupported here');
    const description = describeAdapter(adapter, 'browser');
    if (req.name && req.name !== description.name) {
      throw new NoAdapterError(`the browser offers adapter '${description.name}', not '${req.name}'`);
    }
    return { adapter, description };
  }

  async listAdapters(): Promise<AdapterDescription[]> {
    if (webgpuUnavailableReason()) return [];
    const adapter = await navigator.gpu.requestAdapter();
    return adapter ? [describeAdapter(adapter, 'browser')] : [];
  }
}
