// The browser's way to open a device: navigator.gpu (the browser chooses the adapter).

import { BrowserGpuProvider } from '../gpu/browser-provider.ts';
import { Gpu, type GpuOptions } from '../gpu/gpu.ts';

export const browserProvider = new BrowserGpuProvider();

export function createBrowserGpu(options: GpuOptions = {}): Promise<Gpu> {
  return Gpu.create(browserProvider, options);
}
