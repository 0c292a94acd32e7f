// Compiled compute pipelines, keyed by kernel name, entry point, preprocessor defines and override
// constants (the device's base defines are the same for all). Shapes travel in uniforms, so one
// compiled kernel serves every size.

import { preprocessWgsl, type Defines } from './wgsl-preprocess.ts';

export interface KernelSpec {
  /** Names the kernel in errors and labels, and keys the cache together with the rest. */
  name: string;
  /** WGSL text; several snippets (e.g. a shared RNG) are joined with newlines. */
  source: string | string[];
  entryPoint?: string;
  defines?: Defines;
  /** WGSL `override` constants (workgroup sizes, transposition flags). */
  constants?: Record<string, number>;
}

export class KernelCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  compiled = 0;
  /** Every get(): a dispatch looks its kernel up each time. */
  lookups = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly baseDefines: Defines,
  ) {}

  get(spec: KernelSpec): GPUComputePipeline {
    this.lookups++;
    const entryPoint = spec.entryPoint ?? 'main';
    const key = kernelKey(spec.name, entryPoint, spec.defines, spec.constants);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const defines = { ...this.baseDefines, ...spec.defines };
      const text = Array.isArray(spec.source) ? spec.source.join('\n') : spec.source;
      const code = preprocessWgsl(text, defines, spec.name);
      const label = `${spec.name}:${entryPoint}`;
      const module = this.device.createShaderModule({ code, label });
      pipeline = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module, entryPoint, constants: spec.constants },
      });
      this.pipelines.set(key, pipeline);
      this.compiled++;
    }
    return pipeline;
  }
}

/**
 * The cache key of a kernel, built by hand on every lookup (a dispatch looks its kernel up each time):
 * the base defines are the same for every kernel of a device and stay out of it. Defines and constants
 * given in another order make another key, hence at worst a second compile of the same code.
 */
function kernelKey(name: string, entryPoint: string, defines: Defines | undefined, constants: Record<string, number> | undefined): string {
  let key = name + '|' + entryPoint;
  if (defines) for (const k in defines) key += '|' + k + (typeof defines[k] === 'boolean' ? ':' : '=') + defines[k];
  if (constants) for (const k in constants) key += '|#' + k + '=' + constants[k];
  return key;
}
