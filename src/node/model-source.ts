// How a SAR run builds one replica of the model per worker. In-process transports call a factory; worker
// threads cannot receive a function, so they get a description they rebuild the model from: a built-in
// config, or a module of the user's and the name of what it exports (nn/model-import.ts).

import type { GraphModule } from '../nn/graph-module.ts';
import { checkedFactory, importModelFactory, type ModelModule } from '../nn/model-import.ts';
import { NodeClassifier, type NodeModelConfig } from '../nn/models/node-classifier.ts';

export type ModelSource = { builtin: NodeModelConfig } | ModelModule;

export type ModelSpec = (() => GraphModule) | ModelSource;

/** A factory for the model `spec` describes (importing the user's module once). */
export async function modelFactory(spec: ModelSpec): Promise<() => GraphModule> {
  if (typeof spec === 'function') return checkedFactory(spec, 'the model factory');
  if ('builtin' in spec) return () => new NodeClassifier(spec.builtin);
  return importModelFactory(spec);
}

/** What a worker thread can be sent: the description itself, or a refusal saying what to pass instead. */
export function serializableSource(spec: ModelSpec): ModelSource {
  if (typeof spec !== 'function') return spec;
  throw new TypeError(
    "a run over worker threads (SAR or pipe) builds the model inside each thread, so it needs the model's module, not a function: " +
      "pass { module: new URL('./my-model.js', import.meta.url).href, export: 'MyModel', args: [...] } (or use transport 'local')",
  );
}
