// How a SAR run builds one replica of the model per worker. In-process transports call a factory; worker
// threads cannot receive a function, so they get a description they rebuild the model from: a built-in
// config, or a module of the user's (a file URL or package specifier) and the name of what it exports — a
// factory function or a Module class, called with `args`.

import { isGraphModule, type GraphModule } from '../nn/graph-module.ts';
import { NodeClassifier, type NodeModelConfig } from '../nn/models/node-classifier.ts';

export type ModelSource = { builtin: NodeModelConfig } | { module: string; export: string; args?: unknown[] };

export type ModelSpec = (() => GraphModule) | ModelSource;

/** A factory for the model `spec` describes (importing the user's module once). */
export async function modelFactory(spec: ModelSpec): Promise<() => GraphModule> {
  if (typeof spec === 'function') return checked(spec, 'the model factory');
  if ('builtin' in spec) return () => new NodeClassifier(spec.builtin);
  let exported: unknown;
  try {
    exported = (await import(spec.module))[spec.export];
  } catch (error) {
    throw new Error(`could not import the model module '${spec.module}': ${(error as Error).message}`);
  }
  if (typeof exported !== 'function') throw new Error(`the model module '${spec.module}' has no export '${spec.export}' that is a class or a function`);
  const make = exported as (...args: unknown[]) => unknown;
  const args = spec.args ?? [];
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(make));
  return checked(() => (isClass ? new (make as unknown as new (...a: unknown[]) => unknown)(...args) : make(...args)) as GraphModule, `'${spec.export}' of '${spec.module}'`);
}

function checked(make: () => unknown, what: string): () => GraphModule {
  return () => {
    const model = make();
    if (!isGraphModule(model)) throw new TypeError(`${what} did not return a Module with forward(graph, x)`);
    return model;
  };
}

/** What a worker thread can be sent: the description itself, or a refusal saying what to pass instead. */
export function serializableSource(spec: ModelSpec): ModelSource {
  if (typeof spec !== 'function') return spec;
  throw new TypeError(
    "SAR over worker threads builds the model inside each thread, so it needs the model's module, not a function: " +
      "pass { module: new URL('./my-model.js', import.meta.url).href, export: 'MyModel', args: [...] } (or use transport 'local')",
  );
}
