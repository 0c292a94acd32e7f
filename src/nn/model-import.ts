// A model named by its module instead of built by a function: what crosses a thread or worker boundary
// (a function cannot). The module is a URL or package specifier; `export` names a Module class (constructed
// with `args`) or a factory function (called with them). Works wherever dynamic import() does: Node, Web Workers.

import { isGraphModule, type GraphModule } from './graph-module.ts';

export interface ModelModule {
  module: string;
  export: string;
  args?: unknown[];
}

/** Imports `source.module` once and returns a factory that builds a fresh model each call. */
export async function importModelFactory(source: ModelModule): Promise<() => GraphModule> {
  let exported: unknown;
  try {
    exported = (await import(/* @vite-ignore */ source.module))[source.export];
  } catch (error) {
    throw new Error(`could not import the model module '${source.module}': ${(error as Error).message}`);
  }
  if (typeof exported !== 'function') throw new Error(`the model module '${source.module}' has no export '${source.export}' that is a class or a function`);
  const make = exported as (...args: unknown[]) => unknown;
  const args = source.args ?? [];
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(make));
  return checkedFactory(
    () => (isClass ? new (make as unknown as new (...a: unknown[]) => unknown)(...args) : make(...args)),
    `'${source.export}' of '${source.module}'`,
  );
}

/** `make`, checked on every call to return a Module with forward(graph, x). */
export function checkedFactory(make: () => unknown, what: string): () => GraphModule {
  return () => {
    const model = make();
    if (!isGraphModule(model)) throw new TypeError(`${what} did not return a Module with forward(graph, x)`);
    return model;
  };
}
