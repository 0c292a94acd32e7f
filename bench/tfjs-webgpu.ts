// TensorFlow.js's WebGPU backend on dawn.node, on the same adapter (same Dawn flags) as webgnn, so
// the benchmarks compare the two runtimes and not two drivers. Bench-only: nothing in src/ imports
// tfjs. tfjs-backend-webgpu decides at import time whether `navigator.gpu` exists, so the navigator
// is installed first and the backend imported dynamically afterwards.

// Imported first for its side effect: it sets the Vulkan driver list (VK_ADD_DRIVER_FILES) that Dawn
// reads once per process, and installs the WebGPU globals (GPUBufferUsage, …) tfjs also needs.
import '../src/gpu/node-provider.ts';
import { createRequire } from 'node:module';
import { register as registerCjsTransform } from 'tsx/cjs/api';
import { create } from 'webgpu';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { AdapterDescription } from '../src/gpu/adapter-description.ts';

export type Tf = typeof TfCore;

export interface TfjsWebGpu {
  tf: Tf;
  /** What tfjs's adapter says about itself, to set beside webgnn's. */
  adapter: { vendor: string; architecture: string; device: string; description: string };
  /** The Dawn flags the instance was created with. */
  flags: string[];
}

/** Dawn's `adapter=` filter is a substring of the adapter's name; as src/gpu/node-provider.ts maps it. */
const DAWN_ADAPTER_FILTER: Record<string, string> = { lavapipe: 'llvmpipe', swiftshader: 'SwiftShader' };

/** The Dawn flags that select the adapter webgnn is using. */
export function dawnFlagsFor(webgnnAdapter: AdapterDescription): string[] {
  const flags = process.platform === 'linux' ? ['backend=vulkan'] : [];
  const filter = DAWN_ADAPTER_FILTER[webgnnAdapter.kind] ?? (webgnnAdapter.device || webgnnAdapter.description);
  if (filter) flags.push(`adapter=${filter}`);
  return flags;
}

// The dawn.node instance must stay referenced for the whole run: if it is collected while work is
// in flight the process aborts. Module scope keeps it alive until exit.
let instance: GPU | null = null;
let ready: Promise<TfjsWebGpu> | null = null;

/** Brings tfjs up once per process on the adapter webgnn uses. */
export function createTfjsWebGpu(webgnnAdapter: AdapterDescription): Promise<TfjsWebGpu> {
  ready ??= bringUp(dawnFlagsFor(webgnnAdapter));
  return ready;
}

async function bringUp(flags: string[]): Promise<TfjsWebGpu> {
  instance = create(flags);
  const gpu = instance;
  let adapter: GPUAdapter | null = null;
  // Node 20 has no navigator; tfjs only calls navigator.gpu.requestAdapter. Wrapping it lets us see
  // which adapter tfjs was given.
  const navigatorGpu = {
    requestAdapter: async (options?: GPURequestAdapterOptions) => {
      adapter = await gpu.requestAdapter(options);
      return adapter;
    },
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: navigatorGpu }, configurable: true, writable: true });
  const tf = (await import('@tensorflow/tfjs-core')) as Tf;
  registerGradients();
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error(`tfjs: the webgpu backend did not initialise (Dawn flags ${flags.join(' ')})`);
  await tf.ready();
  if (tf.getBackend() !== 'webgpu') throw new Error(`tfjs: backend is '${tf.getBackend()}', not webgpu`);
  const info = (adapter as GPUAdapter | null)?.info;
  if (!info) throw new Error('tfjs: no adapter was requested through navigator.gpu');
  return {
    tf,
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    flags,
  };
}

/**
 * tfjs-core's Node bundle has no gradient functions (the `@tensorflow/tfjs` union package adds them);
 * they ship only as ES modules with extensionless imports, which Node cannot load as they are. tsx's
 * CommonJS transform loads them; they register into tfjs's global gradient registry, which the Node
 * bundle shares.
 */
function registerGradients(): void {
  const unregister = registerCjsTransform();
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  } finally {
    unregister();
  }
}
