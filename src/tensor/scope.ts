// Tensors made inside `withScope` are released when it ends, unless kept: a training step frees its
// activations and temporary gradients without the caller disposing each one (like tf.tidy).

interface Disposable {
  dispose(): void;
}

const stack: Array<Set<Disposable>> = [];

export function track(t: Disposable): void {
  stack[stack.length - 1]?.add(t);
}

/** Removes `t` from the scope that would free it (it then lives until disposed explicitly). */
export function keep<T extends Disposable>(t: T): T {
  for (const scope of stack) scope.delete(t);
  return t;
}

/** Runs `fn` synchronously; everything it allocated and did not keep (or return) is disposed. */
export function withScope<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    stack.pop();
  }
  for (const kept of returnedDisposables(result)) scope.delete(kept);
  for (const t of scope) t.dispose();
  // What was returned belongs to the enclosing scope, if there is one.
  for (const kept of returnedDisposables(result)) track(kept);
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
