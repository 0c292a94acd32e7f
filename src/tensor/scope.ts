// Tensors made inside a scope are released when it ends, unless kept: a training step frees its
// activations and temporary gradients without the caller disposing each one (like tf.tidy).
//
// Two kinds of scope. `withScope` runs synchronously, so nothing else can run inside it and one global
// stack serves. `withScopeAsync` spans awaits (a distributed step waits for peers), while other workers
// of the same process run in between: its stack belongs to one device, and a tensor joins the scope of
// its own device, never another worker's.

import type { Gpu } from '../gpu/gpu.ts';

interface Disposable {
  dispose(): void;
}

interface Owned extends Disposable {
  readonly gpu: Gpu;
}

const syncStack: Array<Set<Disposable>> = [];
const asyncStacks = new WeakMap<Gpu, Array<Set<Disposable>>>();

export function track(t: Owned): void {
  if (syncStack.length) {
    syncStack[syncStack.length - 1].add(t);
    return;
  }
  const stack = asyncStacks.get(t.gpu);
  stack?.[stack.length - 1]?.add(t);
}

/** Removes `t` from the scope that would free it (it then lives until disposed explicitly). */
export function keep<T extends Owned>(t: T): T {
  for (const scope of syncStack) scope.delete(t);
  for (const scope of asyncStacks.get(t.gpu) ?? []) scope.delete(t);
  return t;
}

/** Runs `fn` synchronously; everything it allocated and did not keep (or return) is disposed. */
export function withScope<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  syncStack.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    syncStack.pop();
  }
  return finish(scope, result, (kept) => track(kept as Owned));
}

/**
 * Runs async `fn`; everything allocated on `gpu` while it runs (and not kept or returned) is disposed
 * when it settles. Code of this device must not start unrelated work that outlives the scope without
 * keeping its tensors.
 */
export async function withScopeAsync<T>(gpu: Gpu, fn: () => Promise<T>): Promise<T> {
  let stack = asyncStacks.get(gpu);
  if (!stack) asyncStacks.set(gpu, (stack = []));
  const scope = new Set<Disposable>();
  stack.push(scope);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    stack.splice(stack.lastIndexOf(scope), 1);
    for (const t of scope) t.dispose();
    throw error;
  }
  stack.splice(stack.lastIndexOf(scope), 1);
  return finish(scope, result, (kept) => {
    const outer = asyncStacks.get(gpu);
    outer?.[outer.length - 1]?.add(kept);
  });
}

function finish<T>(scope: Set<Disposable>, result: T, adopt: (kept: Disposable) => void): T {
  const returned = returnedDisposables(result);
  for (const kept of returned) scope.delete(kept);
  for (const t of scope) t.dispose();
  // What was returned belongs to the enclosing scope, if there is one.
  for (const kept of returned) adopt(kept);
  return result;
}

function returnedDisposables(value: unknown): Disposable[] {
  if (value && typeof value === 'object') {
    if (typeof (value as Disposable).dispose === 'function') return [value as Disposable];
    if (Array.isArray(value)) return value.flatMap(returnedDisposables);
    if (Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).flatMap(returnedDisposables);
  }
  return [];
}
