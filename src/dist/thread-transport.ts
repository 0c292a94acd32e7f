// worker_threads transport (Node only). Every rank is a worker_thread (with its own Dawn instance, set
// up by the engine); the main thread links them: one MessageChannel per pair of ranks, made by
// threadLinks() and handed to each thread in workerData (ports in the transferList). A tensor travels
// as { t: 'm', header, data } with data's ArrayBuffer transferred, not copied.
//
// Failure detection: when a thread dies (terminate(), uncaught error, process.exit) Node closes its
// ports, and the surviving end of each pair sees 'close' within milliseconds, after every message the
// dead thread had already posted. A 'close' not preceded by our goodbye message is a failure; one after
// a goodbye is an orderly departure (BaseTransport.linkClosed). watchWorkers() on the main thread adds
// a second signal over a per-thread control port (the exit code or error of the dead thread), for the
// reason text and in case a port never reports its close.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { BaseTransport, type TransportOptions } from './transport.ts';
import type { WireArray, WireHeader, WireKind } from './wire.ts';

/** What one thread needs to join the group; postMessage-able (transfer transferListFor(links)). */
export interface ThreadLinks {
  rank: number;
  size: number;
  /** ports[p]: this thread's end of the channel to rank p; null at ports[rank]. */
  ports: (MessagePort | null)[];
  /** This thread's end of its control channel from the main thread (see watchWorkers), or null. */
  control: MessagePort | null;
}

/** The main thread's ends of the control channels, kept beside the links they belong to. */
const controlEnds = new WeakMap<ThreadLinks, MessagePort>();

/** Links for `size` threads, rank i at index i: one MessageChannel per pair, one control channel each. */
export function threadLinks(size: number): ThreadLinks[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`threadLinks: size must be >= 1, got ${size}`);
  const links: ThreadLinks[] = Array.from({ length: size }, (_, rank) => ({
    rank,
    size,
    ports: Array.from({ length: size }, () => null),
    control: null,
  }));
  for (let a = 0; a < size; a++) {
    for (let b = a + 1; b < size; b++) {
      const { port1, port2 } = new MessageChannel();
      links[a].ports[b] = port1;
      links[b].ports[a] = port2;
    }
    const { port1, port2 } = new MessageChannel();
    links[a].control = port1;
    controlEnds.set(links[a], port2);
  }
  return links;
}

/** The ports to pass as transferList beside `links` in workerData. */
export function transferListFor(links: ThreadLinks): MessagePort[] {
  const ports = links.ports.filter((p): p is MessagePort => p !== null);
  return links.control ? [...ports, links.control] : ports;
}

/** The part of a Worker that watchWorkers needs (an EventEmitter with 'exit' and 'error'). */
export interface WatchedWorker {
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'exit', listener: (code: number) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Main thread: when workers[r] exits or throws, tells every other thread's transport (through the
 * control ports of `links`, which must come from threadLinks) that rank r is gone. A thread that had
 * already closed its transport in order is not treated as failed by its peers. `notify` is called on
 * this thread too (for logging). Returns a function that stops watching and closes the control ports.
 */
export function watchWorkers(
  workers: readonly WatchedWorker[],
  links: readonly ThreadLinks[],
  notify?: (rank: number, reason: string) => void,
): () => void {
  if (workers.length !== links.length) throw new RangeError(`watchWorkers: ${workers.length} workers but ${links.length} links`);
  const ends = links.map((l, i) => {
    const end = controlEnds.get(l);
    if (!end || l.rank !== i) throw new Error(`watchWorkers: links[${i}] did not come from threadLinks(), or is out of rank order`);
    return end;
  });
  const errors: (string | null)[] = workers.map(() => null);
  const detach: (() => void)[] = [];
  workers.forEach((worker, rank) => {
    const onError = (error: Error) => {
      errors[rank] = `its thread threw: ${error?.message ?? String(error)}`;
    };
    const onExit = (code: number) => {
      const reason = errors[rank] ?? `its thread exited with code ${code}`;
      notify?.(rank, reason);
      ends.forEach((end, other) => {
        if (other !== rank) end.postMessage({ t: 'peer-exit', rank, reason });
      });
    };
    worker.on('error', onError);
    worker.on('exit', onExit);
    detach.push(() => {
      worker.off('error', onError);
      worker.off('exit', onExit);
    });
  });
  return () => {
    for (const d of detach) d();
    for (const end of ends) end.close();
  };
}

/** How long a control-port death notice waits for the pair port's own 'close' before failing alone. */
const NOTICE_GRACE_MS = 500;

type LinkState = 'open' | 'departed' | 'broken';

const KINDS = new Set<string>(['f32', 'i32', 'u32', 'u8']);

/**
 * One rank's transport inside its thread, over the ports of its ThreadLinks. The pair ports keep the
 * thread alive (a rank waiting for a message must not exit), so call close() when done, also after a
 * failure; close() says goodbye to every peer still linked, so they can read what was already sent.
 */
export class ThreadTransport extends BaseTransport {
  readonly name = 'threads' as const;
  private readonly ports: (MessagePort | null)[];
  private readonly control: MessagePort | null;
  private readonly links: LinkState[];
  private readonly noticeTimers: (ReturnType<typeof setTimeout> | null)[];
  /** Why the main thread says a peer's thread ended (watchWorkers), for the failure message. */
  private readonly noticeReasons: (string | null)[];
  private closing = false;

  constructor(links: ThreadLinks, options: TransportOptions = {}) {
    super(links.rank, links.size, options);
    if (!Array.isArray(links.ports) || links.ports.length !== links.size) {
      throw new RangeError(`thread transport: rank ${links.rank} needs ${links.size} port slots, got ${links.ports?.length}`);
    }
    links.ports.forEach((port, peer) => {
      if ((peer === links.rank) !== (port === null) || (port !== null && typeof port.postMessage !== 'function')) {
        throw new TypeError(`thread transport: rank ${links.rank}: ports[${peer}] must be ${peer === links.rank ? 'null' : 'a MessagePort'}`);
      }
    });
    this.ports = links.ports;
    this.control = links.control ?? null;
    this.links = links.ports.map((p) => (p ? 'open' : 'broken'));
    this.noticeTimers = links.ports.map(() => null);
    this.noticeReasons = links.ports.map(() => null);
    links.ports.forEach((port, peer) => {
      if (!port) return;
      port.on('message', (message: unknown) => this.onPortMessage(peer, message));
      // A bad message fails the session but leaves the link up, so the sender can still be told why.
      port.on('messageerror', (error: Error) => this.linkFailed(peer, `invalid message: it could not be deserialized (${error?.message})`));
      port.on('close', () => this.onPortClose(peer));
    });
    if (this.control) {
      this.control.on('message', (message: unknown) => this.onControlMessage(message));
      // The control port alone must not keep a finished thread alive.
      this.control.unref();
    }
  }

  protected transmit(peer: number, header: WireHeader, data: WireArray): Promise<void> {
    const port = this.ports[peer];
    if (!port || this.links[peer] !== 'open' || this.closing) {
      return Promise.reject(new Error(`worker ${this.rank}: thread link to peer ${peer} is closed`));
    }
    try {
      let payload = ownBuffer(data);
      try {
        port.postMessage({ t: 'm', header, data: payload }, [payload.buffer]);
      } catch {
        // Not transferable after all (marked untransferable, or external memory): send a plain copy.
        payload = copyOf(payload);
        port.postMessage({ t: 'm', header, data: payload }, [payload.buffer]);
      }
    } catch (e) {
      return Promise.reject(new Error(`worker ${this.rank}: could not post to peer ${peer}: ${(e as Error).message}`));
    }
    // postMessage has no backpressure: the link accepted it once it is queued.
    return Promise.resolve();
  }

  protected async closeLinks(): Promise<void> {
    this.closing = true;
    this.ports.forEach((port, peer) => {
      if (!port) return;
      // Everything posted before the goodbye arrives before it, and the peer's 'close' after both.
      if (this.links[peer] === 'open') port.postMessage({ t: 'bye' });
      port.close();
      this.clearNotice(peer);
    });
    this.control?.close();
  }

  private onPortMessage(peer: number, message: unknown): void {
    if (this.closing || this.links[peer] !== 'open') return;
    const parsed = parseMessage(message);
    if (parsed === 'bye') {
      this.links[peer] = 'departed';
      this.clearNotice(peer);
      this.linkClosed(peer);
      return;
    }
    if (typeof parsed === 'string') {
      this.linkFailed(peer, `invalid message: ${parsed}`);
      return;
    }
    if (this.admit(peer, parsed.header)) this.deliver(peer, parsed.header, parsed.data);
  }

  private onPortClose(peer: number): void {
    if (this.closing || this.links[peer] !== 'open') return;
    const why = this.noticeReasons[peer] ?? 'the thread exited, crashed or was terminated';
    this.breakLink(peer, `its thread link closed without a goodbye (${why})`);
  }

  private onControlMessage(message: unknown): void {
    if (this.closing) return;
    const m = message as { t?: unknown; rank?: unknown; reason?: unknown } | null;
    if (!m || typeof m !== 'object' || m.t !== 'peer-exit' || !Number.isInteger(m.rank)) return;
    const peer = m.rank as number;
    if (peer < 0 || peer >= this.size || peer === this.rank || this.links[peer] !== 'open' || this.noticeTimers[peer]) return;
    const reason = String(m.reason ?? 'its thread exited').slice(0, 500);
    this.noticeReasons[peer] = reason;
    // The pair port may still hold messages (and a goodbye) the dead thread posted before exiting; its
    // 'close' comes after them, so let it decide, and fail on the notice only if it never comes.
    const timer = setTimeout(() => {
      this.noticeTimers[peer] = null;
      if (this.links[peer] === 'open') this.breakLink(peer, reason);
    }, NOTICE_GRACE_MS);
    timer.unref?.();
    this.noticeTimers[peer] = timer;
  }

  private breakLink(peer: number, reason: string): void {
    if (this.links[peer] === 'broken') return;
    this.links[peer] = 'broken';
    this.clearNotice(peer);
    this.linkFailed(peer, reason);
  }

  private clearNotice(peer: number): void {
    const timer = this.noticeTimers[peer];
    if (timer) clearTimeout(timer);
    this.noticeTimers[peer] = null;
  }
}

/** data itself when it alone owns a transferable ArrayBuffer, else a copy that does. */
function ownBuffer(data: WireArray): WireArray {
  const buffer = data.buffer as ArrayBufferLike;
  const whole = buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength;
  return whole ? data : copyOf(data);
}

function copyOf(data: WireArray): WireArray {
  return data.slice() as WireArray;
}

/** Checks the shape of what a peer posted; returns the message, 'bye', or what is wrong with it. */
function parseMessage(message: unknown): { header: WireHeader; data: WireArray } | 'bye' | string {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return `expected an object, got ${describe(message)}`;
  const m = message as { t?: unknown; header?: unknown; data?: unknown };
  if (m.t === 'bye') return 'bye';
  if (m.t !== 'm') return `unknown message type ${describe(m.t)}`;
  const h = m.header as Record<string, unknown> | null | undefined;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return `header must be an object, got ${describe(h)}`;
  if (typeof h.kind !== 'string' || !KINDS.has(h.kind)) return `header kind must be one of f32, i32, u32, u8, got ${describe(h.kind)}`;
  for (const field of ['tag', 'byteLength', 'checksum'] as const) {
    if (typeof h[field] !== 'number') return `header ${field} must be a number, got ${describe(h[field])}`;
  }
  if (!Array.isArray(h.shape) || h.shape.length > 4 || !h.shape.every((d) => typeof d === 'number')) {
    return 'header shape must be an array of at most 4 numbers';
  }
  const data = m.data;
  if (!(data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint32Array || data instanceof Uint8Array)) {
    return `payload must be a Float32Array, Int32Array, Uint32Array or Uint8Array, got ${describe(data)}`;
  }
  // A fresh header of plain values: nothing the peer posted (extra fields, odd prototypes) goes further.
  const header: WireHeader = {
    kind: h.kind as WireKind,
    tag: h.tag as number,
    shape: [...(h.shape as number[])],
    byteLength: h.byteLength as number,
    checksum: h.checksum as number,
  };
  return { header, data: data as WireArray };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return typeof value === 'string' ? `'${value.slice(0, 40)}'` : typeof value;
}
