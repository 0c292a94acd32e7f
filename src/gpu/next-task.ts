// A new task on the event loop (not a microtask): lets I/O and device callbacks — buffer maps, messages —
// run first. setImmediate in Node; a MessageChannel in browsers (setTimeout(0) is clamped to ≥ 4 ms there).

/** Runs fn as a new task, in order of scheduling. */
export const nextTask: (fn: () => void) => void =
  typeof setImmediate === 'function'
    ? (fn) => setImmediate(fn)
    : (() => {
        const queue: Array<() => void> = [];
        const channel = new MessageChannel();
        channel.port1.onmessage = () => queue.shift()?.();
        return (fn: () => void) => {
          queue.push(fn);
          channel.port2.postMessage(null);
        };
      })();

/** Resolves in a new task. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => nextTask(resolve));
}
