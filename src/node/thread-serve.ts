// The thread's side of an engine whose workers are worker_threads (sar-thread-entry.ts,
// pipe-thread-entry.ts): the command loop every such thread runs, with the two commands they share —
// 'crash' (the tests' way to lose a worker mid-epoch) and 'stop' (free everything and end by itself).

import type { MessagePort } from 'node:worker_threads';
import type { Transport } from '../dist/transport.ts';
import type { Gpu } from '../gpu/gpu.ts';

/** An error as a thread answers it (a PeerError keeps the peer at fault). */
export function errorReply(error: unknown): { type: 'error'; name: string; message: string; peer?: number } {
  const e = error as Error;
  return { type: 'error', name: e.name, message: e.message, peer: (e as { peer?: number }).peer };
}

/**
 * Answers the main thread's commands on `port`: each one `handle` knows by its reply (an error is
 * answered as one), 'crash' and 'stop' here. `dispose` frees the thread's engine state before 'stop'
 * closes the transport and the device.
 */
export function serveCommands(
  port: MessagePort,
  gpu: Gpu,
  transport: Transport,
  handle: (command: { type: string }) => Promise<unknown>,
  dispose: () => void,
): void {
  port.on('message', async (command: { type: string }) => {
    // Mid-epoch, as soon as no read from the device is pending (dawn.node aborts the whole process when a
    // thread ends with a mapAsync unsettled): the thread ends without a goodbye.
    if (command.type === 'crash') return gpu.waits.whenIdle().then(() => process.exit(70));
    if (command.type === 'stop') return stop(port, gpu, transport, dispose);
    try {
      port.postMessage(await handle(command));
    } catch (error) {
      port.postMessage(errorReply(error));
    }
  });
}

/**
 * Frees everything, then lets the thread end by itself: the device is destroyed only once nothing of it
 * is in flight (Gpu.close), and the main thread waits for this thread's exit instead of terminating it
 * (a thread ended while dawn.node is inside a call aborts the whole process).
 */
async function stop(port: MessagePort, gpu: Gpu, transport: Transport, dispose: () => void): Promise<void> {
  let failure: unknown = null;
  try {
    dispose();
    await transport.close();
  } catch (error) {
    failure = error;
  }
  await gpu.close();
  port.postMessage(failure ? errorReply(failure) : { type: 'stopped' });
  port.close();
}
