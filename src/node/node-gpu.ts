// Node's way to open a device: dawn.node adapters (hardware, then lavapipe, then SwiftShader).

import { Gpu, type GpuOptions } from '../gpu/gpu.ts';
import { NodeGpuProvider } from '../gpu/node-provider.ts';

export const nodeProvider = new NodeGpuProvider();

/** A device on the adapter `options.name`, else `WEBGNN_ADAPTER`, else the best one (an undefined name is no choice). */
export function createNodeGpu(options: GpuOptions = {}): Promise<Gpu> {
  return Gpu.create(nodeProvider, { ...options, name: options.name || process.env.WEBGNN_ADAPTER || undefined });
}
