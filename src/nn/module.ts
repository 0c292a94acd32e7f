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

export function nameHash(name: string): number {
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

export interface MaterializeOptions {
  /** Name parameters by their path in the whole model (this module's path first), not from this module. */
  fullNames?: boolean;
}

export abstract class Module {
  training = true;
  /** Dotted name of this module in its tree ('' for the root), e.g. 'conv2' or 'blocks.1.lin'. */
  path = '';
  private readonly slots = new Map<string, ParameterSlot>();
  private readonly children = new Map<string, Module>();
  private discovered = false;

  protected declareParameter(name: string, shape: number[], init: Init): void {
    this.slots.set(name, { shape, init, tensor: null });
  }

  protected declareModule<M extends Module>(name: string, module: M): M {
    if (this.children.has(name)) throw new Error(`${this.describePath()}: a sub-module named '${name}' is already declared`);
    this.children.set(name, module);
    module.renamed(this.path ? `${this.path}.${name}` : name);
    return module;
  }

  /** The path in messages: the dotted name and the class, e.g. "'conv2' (GCNConv)". */
  describePath(): string {
    return this.path ? `'${this.path}' (${this.constructor.name})` : this.constructor.name;
  }

  private renamed(path: string): void {
    this.path = path;
    for (const [name, child] of this.children) child.renamed(`${path}.${name}`);
  }

  /**
   * Sub-modules held in fields are registered under the field's name (an array's under `name.i`), as
   * torch.nn.Module does: a model of one's own needs no declareModule calls. Runs once, on first use of
   * the tree, after the constructor has set the fields; explicitly declared modules keep their names.
   * (A field must not refer to a module above this one in the tree: that would register a loop.)
   */
  private discover(): void {
    if (this.discovered) return;
    this.discovered = true;
    // Everything already in the tree below this module (a field may refer to a grandchild).
    const known = new Set<Module>();
    for (const child of this.children.values()) for (const m of child.modules()) known.add(m);
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module && !known.has(value)) {
        this.declareModule(key, value);
        known.add(value);
      } else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof Module && !known.has(item)) {
            this.declareModule(`${key}.${i}`, item);
            known.add(item);
          }
        });
      }
    }
  }

  /** Direct sub-modules by name, in declaration order (fields after declared ones). */
  namedChildren(): Array<[string, Module]> {
    this.discover();
    return [...this.children];
  }

  /** This module and every module below it, depth first, with their dotted paths. */
  *modules(): Generator<Module> {
    yield this;
    for (const [, child] of this.namedChildren()) yield* child.modules();
  }

  /** The materialised tensor of a parameter declared by this module. */
  protected parameter(name: string): Tensor {
    const slot = this.slots.get(name);
    if (!slot?.tensor) throw new Error(`parameter '${name}' of ${this.describePath()} is not materialised: call materialize(gpu, seed) first`);
    return slot.tensor;
  }

  /** Dotted names and slots of every parameter, in declaration order. */
  private *slotsWithNames(prefix = ''): Generator<[string, ParameterSlot]> {
    for (const [name, slot] of this.slots) yield [prefix + name, slot];
    for (const [name, child] of this.namedChildren()) yield* child.slotsWithNames(`${prefix}${name}.`);
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

  /**
   * Creates every parameter on `gpu`: initial values from `seed`, or, when `values` is given, exactly
   * those (by dotted name; a missing, extra or wrongly shaped entry is refused before anything is created).
   */
  materialize(
    gpu: Gpu,
    seed: number,
    values?: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array } | Float32Array>,
    options: MaterializeOptions = {},
  ): this {
    // A pipeline stage materialises some blocks of a model: their parameters take the names (and so the
    // initial values) they have in the whole model.
    const slots = [...this.slotsWithNames(options.fullNames && this.path ? `${this.path}.` : '')];
    if (values) checkValues(this.constructor.name, slots, values);
    for (const [name, slot] of slots) {
      slot.tensor?.dispose();
      const given = values?.get(name);
      const data = given instanceof Float32Array ? given : given?.data;
      const t = fromArray(gpu, data ?? initialValues(name, slot.shape, slot.init, seed), slot.shape, { label: name });
      t.requiresGrad = true;
      slot.tensor = t;
    }
    return this;
  }

  /**
   * The weight decay of parameter `name` (a dotted name in this module's tree) when a run's weight decay
   * is `runDecay`. Models with per-layer decays (GCNII: 0.01 on convolutions, 5e-4 on its two linear
   * layers) override it; the default is the run's for every parameter.
   */
  weightDecayFor(name: string, runDecay: number): number {
    void name;
    return runDecay;
  }

  /** Sets training mode (dropout active) on this module and every sub-module; `eval()` clears it. */
  train(mode = true): this {
    this.training = mode;
    for (const [, child] of this.namedChildren()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * What a checkpoint records about the model (JSON). Built-in models return the config they are rebuilt
   * from; a model of one's own is rebuilt by its author, and the checkpoint checks names and shapes.
   */
  describe(): Record<string, unknown> {
    return { class: this.constructor.name, parameters: Object.fromEntries(this.parameterShapes()) };
  }

  dispose(): void {
    for (const [, slot] of this.slotsWithNames()) {
      slot.tensor?.dispose();
      slot.tensor = null;
    }
  }
}

function checkValues(
  model: string,
  slots: Array<[string, ParameterSlot]>,
  values: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array } | Float32Array>,
): void {
  const problems: string[] = [];
  const names = new Set(slots.map(([name]) => name));
  for (const [name, slot] of slots) {
    const given = values.get(name);
    if (!given) {
      problems.push(`no values for parameter '${name}' ${JSON.stringify(slot.shape)}`);
      continue;
    }
    const size = slot.shape.reduce((a, b) => a * b, 1);
    const shape = given instanceof Float32Array ? null : given.shape;
    const length = given instanceof Float32Array ? given.length : given.data.length;
    if (shape ? JSON.stringify([...shape]) !== JSON.stringify(slot.shape) : length !== size) {
      problems.push(`parameter '${name}' is ${JSON.stringify(slot.shape)} in the model but ${shape ? JSON.stringify(shape) : `${length} values`} in the values given`);
    }
  }
  for (const name of values.keys()) if (!names.has(name)) problems.push(`'${name}' is not a parameter of the model`);
  if (problems.length) throw new ParameterMismatchError(model, problems);
}

/** Values (a checkpoint's) that do not fit a model's parameters: every problem is listed. */
export class ParameterMismatchError extends Error {
  constructor(
    model: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 16).join('; ') + (problems.length > 16 ? `; and ${problems.length - 16} more` : '');
    super(`these values do not fit ${model}'s parameters: ${shown}`);
    this.name = 'ParameterMismatchError';
  }
}
