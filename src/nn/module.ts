// Modules declare parameters by name and shape; `materialize(gpu, seed)` creates them on a device.
// Initial values come from the counter-based RNG keyed by (seed, hash of the parameter's dotted name,
// row, column), so every worker that materialises the same model gets the same weights.

import type { Gpu } from '../gpu/gpu.ts';
import { fromArray } from '../tensor/create.ts';
import { rngUniform, RNG_STREAM } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** A named scheme, or fixed initial values (e.g. TGN's time-encoding frequencies). */
export type Init = 'glorot' | 'zeros' | 'ones' | Float32Array;

interface ParameterSlot {
  shape: number[];
  init: Init;
  tensor: Tensor | null;
}

/** What a forward pass needs besides its inputs: mode and the keys of its random numbers. */
export interface ForwardContext {
  training: boolean;
  seed: number;
  /** Training step (epoch or iteration): dropout masks change with it. */
  step: number;
  /** Global id of the first local row (non-zero when a worker holds a slice of the nodes). */
  rowOffset?: number;
  /** Global id of every local row (a SAR worker's partition); overrides rowOffset. */
  rowIds?: Tensor;
}

function nameHash(name: string): number {
  // FNV-1a: a stable stream id per parameter name.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function initialValues(name: string, shape: readonly number[], init: Init, seed: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (init instanceof Float32Array) {
    if (init.length !== size) throw new Error(`parameter '${name}': ${init.length} initial values for shape ${JSON.stringify(shape)}`);
    return init.slice();
  }
  const out = new Float32Array(size);
  if (init === 'ones') out.fill(1);
  if (init !== 'glorot') return out;
  // Glorot/Xavier uniform, as PyG's Linear (fan_in = rows, fan_out = cols of the [in, out] weight).
  const [fanIn, fanOut] = shape.length === 2 ? [shape[0], shape[1]] : [shape[0], shape[0]];
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  const stream = (RNG_STREAM.init ^ nameHash(name)) >>> 0;
  const cols = shape.length === 2 ? shape[1] : 1;
  for (let i = 0; i < size; i++) {
    out[i] = (2 * rngUniform(seed, stream, 0, Math.floor(i / cols), i % cols) - 1) * bound;
  }
  return out;
}

export abstract class Module {
  training = true;
  private readonly slots = new Map<string, ParameterSlot>();
  private readonly children = new Map<string, Module>();

  protected declareParameter(name: string, shape: number[], init: Init): void {
    this.slots.set(name, { shape, init, tensor: null });
  }

  protected declareModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** The materialised tensor of a parameter declared by this module. */
  protected parameter(name: string): Tensor {
    const slot = this.slots.get(name);
    if (!slot?.tensor) throw new Error(`parameter '${name}' of ${this.constructor.name} is not materialised: call materialize(gpu, seed) first`);
    return slot.tensor;
  }

  /** Dotted names and slots of every parameter, in declaration order. */
  private *slotsWithNames(prefix = ''): Generator<[string, ParameterSlot]> {
    for (const [name, slot] of this.slots) yield [prefix + name, slot];
    for (const [name, child] of this.children) yield* child.slotsWithNames(`${prefix}${name}.`);
  }

  namedParameters(): Array<[string, Tensor]> {
    return [...this.slotsWithNames()].map(([name, slot]) => {
      if (!slot.tensor) throw new Error(`parameter '${name}' is not materialised: call materialize(gpu, seed) first`);
      return [name, slot.tensor];
    });
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  parameterShapes(): Array<[string, number[]]> {
    return [...this.slotsWithNames()].map(([name, slot]) => [name, slot.shape]);
  }

  /** Creates every parameter on `gpu` (initial values from `seed`, or from `values` by name). */
  materialize(gpu: Gpu, seed: number, values?: ReadonlyMap<string, Float32Array>): this {
    for (const [name, slot] of this.slotsWithNames()) {
      slot.tensor?.dispose();
      const size = slot.shape.reduce((a, b) => a * b, 1);
      const given = values?.get(name);
      if (values && !given) throw new Error(`no values for parameter '${name}'`);
      if (given && given.length !== size) {
        throw new Error(`parameter '${name}': ${given.length} values given for shape ${JSON.stringify(slot.shape)}`);
      }
      const t = fromArray(gpu, given ?? initialValues(name, slot.shape, slot.init, seed), slot.shape, { label: name });
      t.requiresGrad = true;
      slot.tensor = t;
    }
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const [, slot] of this.slotsWithNames()) {
      slot.tensor?.dispose();
      slot.tensor = null;
    }
  }
}
