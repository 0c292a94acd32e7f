// One transport interface for every way workers are linked (in-process devices, worker_threads,
// WebRTC). A transport moves typed arrays between ranks, matched by (peer, tag); it counts bytes per
// peer; and it fails loudly: any broken link, dead peer or invalid message makes every pending and
// later receive reject with a PeerError naming the peer, and tells the other peers why, so no worker
// is left waiting.
//
// Subclasses implement only `transmit` (hand a validated message to the link) and `closeLinks`, and
// call `deliver` / `linkFailed` when something arrives or breaks. Queueing, tag checks, expectations,
// byte counters and abort propagation live here once.

import {
  DEFAULT_WIRE_LIMITS,
  headerFor,
  validateHeader,
  verifyPayload,
  WireError,
  type WireArray,
  type WireHeader,
  type WireKind,
  type WireLimits,
} from './wire.ts';

export type TransportName = 'local' | 'threads' | 'webrtc';

/**
 * Tags are u32: the high byte names a channel, the low 24 bits are the sender's choice (a round,
 * a layer, a sequence number). A message on an unknown channel is a protocol error.
 */
export const TAG_CHANNEL = {
  collective: 0x01,
  sarForward: 0x02,
  sarBackward: 0x03,
  engine: 0x04,
  /** Pipeline: a chunk's boundary activations (stage s → s+1), its gradients (s+1 → s), exact passes. */
  pipeForward: 0x05,
  pipeBackward: 0x06,
  pipeExact: 0x07,
  /** Hybrid pipeline: mirror rows between the replicas of one stage (embeddings forward, gradients backward). */
  pipeExchange: 0x08,
  /** DistTGL: a trainer's reads and writes of its memory group's node memory (served by the owner). */
  temporalMemory: 0x09,
  test: 0x7e,
  /** Transport-internal: abort notices. Never returned by recv. */
  control: 0xff,
} as const;

export function makeTag(channel: number, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffff) throw new RangeError(`makeTag: id must fit in 24 bits, got ${id}`);
  return ((channel << 24) | id) >>> 0;
}

const KNOWN_CHANNELS = new Set<number>(Object.values(TAG_CHANNEL));

export interface TensorMessage {
  tag: number;
  kind: WireKind;
  shape: number[];
  data: WireArray;
}

/** What the receiver expects; a message that differs ends the sender's session. */
export interface Expectation {
  kind?: WireKind;
  shape?: readonly number[];
  /** Upper bound on elements, when the exact shape is not known in advance. */
  maxElements?: number;
}

/** A link to `peer` failed, or `peer` broke the protocol, or `peer` reported that another worker failed. */
export class PeerError extends Error {
  constructor(
    /** The worker at fault (as far as this worker knows). */
    readonly peer: number,
    /** The worker that observed it. */
    readonly rank: number,
    readonly reason: string,
  ) {
    super(`worker ${rank}: peer ${peer} failed: ${reason}`);
    this.name = 'PeerError';
  }
}

export interface TransportStats {
  bytesSent: number[];
  bytesReceived: number[];
  messagesSent: number[];
  messagesReceived: number[];
}

export interface TransportOptions {
  limits?: WireLimits;
  /** Bytes of received-but-not-yet-requested messages one peer may queue before its session ends. */
  maxQueuedBytes?: number;
}

export interface Transport {
  readonly name: TransportName;
  readonly rank: number;
  readonly size: number;
  /**
   * Sends `data` (viewed as `shape`, default [length]) to `peer`. Takes ownership of data's buffer: it may
   * be transferred, so do not touch it afterwards. Resolves once the link has accepted it (backpressure).
   */
  send(peer: number, tag: number, data: WireArray, shape?: readonly number[]): Promise<void>;
  /** The next message from `peer` with `tag`. */
  recv(peer: number, tag: number, expect?: Expectation): Promise<TensorMessage>;
  readonly stats: TransportStats;
  /** Called once, on the first failure; returns an unsubscribe function. */
  onFailure(listener: (error: PeerError) => void): () => void;
  /** The error this transport failed with, or null while healthy. */
  readonly failure: PeerError | null;
  /** Fails the session of a peer that sent messages nobody asked for (see BaseTransport). */
  refuseUnclaimed?(where: string): PeerError | null;
  /** Stops this worker: tells every live peer why, and fails everything pending. */
  abort(reason: string): void;
  close(): Promise<void>;
}

interface Waiter {
  expect: Expectation | undefined;
  resolve: (m: TensorMessage) => void;
  reject: (e: Error) => void;
}

const ABORT_TAG = ((TAG_CHANNEL.control << 24) | 1) >>> 0;

export abstract class BaseTransport implements Transport {
  abstract readonly name: TransportName;
  readonly stats: TransportStats;
  failure: PeerError | null = null;
  protected readonly limits: WireLimits;
  private readonly maxQueuedBytes: number;
  private readonly queues: Map<number, TensorMessage[]>[];
  private readonly queuedBytes: number[];
  private readonly waiters: Map<number, Waiter[]>[];
  private readonly listeners = new Set<(error: PeerError) => void>();
  private closed = false;
  private readonly departed = new Set<number>();

  constructor(
    readonly rank: number,
    readonly size: number,
    options: TransportOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`transport: size must be >= 1, got ${size}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= size) throw new RangeError(`transport: rank ${rank} outside 0..${size - 1}`);
    this.limits = options.limits ?? DEFAULT_WIRE_LIMITS;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 2 * this.limits.maxMessageBytes;
    const perPeer = <T>(make: () => T) => Array.from({ length: size }, make);
    this.queues = perPeer(() => new Map());
    this.waiters = perPeer(() => new Map());
    this.queuedBytes = perPeer(() => 0);
    this.stats = { bytesSent: perPeer(() => 0), bytesReceived: perPeer(() => 0), messagesSent: perPeer(() => 0), messagesReceived: perPeer(() => 0) };
  }

  /** Hands one message to the link to `peer`; resolves when the link accepted it. */
  protected abstract transmit(peer: number, header: WireHeader, data: WireArray): Promise<void>;
  /** Closes every link (best effort, never throws). */
  protected abstract closeLinks(): Promise<void>;

  async send(peer: number, tag: number, data: WireArray, shape?: readonly number[]): Promise<void> {
    this.checkPeer(peer, 'send');
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`worker ${this.rank}: send on a closed ${this.name} transport`);
    const channel = tag >>> 24;
    if (channel === TAG_CHANNEL.control || !KNOWN_CHANNELS.has(channel)) {
      throw new WireError(`worker ${this.rank} send`, `tag ${tag.toString(16)} is on no known channel`);
    }
    const header = headerFor(tag, data, shape);
    await this.transmit(peer, header, data);
    this.stats.bytesSent[peer] += header.byteLength;
    this.stats.messagesSent[peer]++;
  }

  recv(peer: number, tag: number, expect?: Expectation): Promise<TensorMessage> {
    this.checkPeer(peer, 'recv');
    if (this.failure) return Promise.reject(this.failure);
    const queue = this.queues[peer].get(tag);
    const message = queue?.shift();
    if (message) {
      if (queue!.length === 0) this.queues[peer].delete(tag);
      this.queuedBytes[peer] -= message.data.byteLength;
      const problem = mismatch(message, expect);
      if (problem) return Promise.reject(this.protocolError(peer, problem));
      return Promise.resolve(message);
    }
    if (this.closed) return Promise.reject(new Error(`worker ${this.rank}: recv on a closed ${this.name} transport`));
    if (this.departed.has(peer)) {
      this.fail(new PeerError(peer, this.rank, `closed its link before sending tag ${tag.toString(16)}`), true);
      return Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => {
      const list = this.waiters[peer].get(tag) ?? [];
      list.push({ expect, resolve, reject });
      this.waiters[peer].set(tag, list);
    });
  }

  /**
   * Ends the session of the first peer that sent a message nobody has asked for, as a protocol error
   * (a duplicated or stray message). For a point where every expected message has been received, such
   * as the end of an epoch. Returns the error, or null when nothing is left over.
   */
  refuseUnclaimed(where: string): PeerError | null {
    if (this.failure) return this.failure;
    for (let peer = 0; peer < this.size; peer++) {
      for (const [tag, queue] of this.queues[peer]) {
        if (queue.length) return this.protocolError(peer, `${queue.length} unexpected message(s) tagged ${tag.toString(16)} left over at ${where} (duplicated or out of order)`);
      }
    }
    return null;
  }

  onFailure(listener: (error: PeerError) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  abort(reason: string): void {
    if (this.failure) return;
    this.fail(new PeerError(this.rank, this.rank, reason), true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Nothing more will arrive: whoever still waits must hear so, not hang.
    const closedError = new Error(`worker ${this.rank}: ${this.name} transport closed`);
    for (const perPeer of this.waiters) {
      for (const list of perPeer.values()) for (const w of list) w.reject(closedError);
      perPeer.clear();
    }
    await this.closeLinks();
  }

  /**
   * For subclasses, before allocating room for a payload: validates a header that arrived from `peer`.
   * Returns false (and ends the session) when it is invalid.
   */
  protected admit(peer: number, header: WireHeader): boolean {
    if (this.failure) return false;
    try {
      validateHeader(header, this.limits, `worker ${this.rank} from peer ${peer}`);
    } catch (e) {
      this.protocolError(peer, (e as Error).message);
      return false;
    }
    const channel = header.tag >>> 24;
    if (!KNOWN_CHANNELS.has(channel)) {
      this.protocolError(peer, `message tagged ${header.tag.toString(16)} is on no known channel`);
      return false;
    }
    if (channel === TAG_CHANNEL.control && (header.tag !== ABORT_TAG || header.byteLength > MAX_NOTICE_BYTES)) {
      this.protocolError(peer, `unknown or oversized control message ${header.tag.toString(16)} (${header.byteLength} bytes)`);
      return false;
    }
    if (channel !== TAG_CHANNEL.control && this.queuedBytes[peer] + header.byteLength > this.maxQueuedBytes) {
      this.protocolError(peer, `peer queued more than ${this.maxQueuedBytes} bytes that nobody asked for`);
      return false;
    }
    return true;
  }

  /** For subclasses: a whole message arrived from `peer` (header already admitted). */
  protected deliver(peer: number, header: WireHeader, data: WireArray): void {
    if (this.failure) return;
    try {
      verifyPayload(header, data, `worker ${this.rank} from peer ${peer}`);
    } catch (e) {
      this.protocolError(peer, (e as Error).message);
      return;
    }
    this.stats.bytesReceived[peer] += header.byteLength;
    this.stats.messagesReceived[peer]++;
    if (header.tag === ABORT_TAG) {
      const notice = decodeAbort(data);
      const origin = notice.origin !== null && notice.origin >= 0 && notice.origin < this.size ? notice.origin : peer;
      this.fail(new PeerError(origin, this.rank, origin === peer ? notice.reason : `${notice.reason} (reported by peer ${peer})`), false);
      return;
    }
    const message: TensorMessage = { tag: header.tag, kind: header.kind, shape: header.shape, data };
    const waiting = this.waiters[peer].get(header.tag);
    const waiter = waiting?.shift();
    if (waiter) {
      if (waiting!.length === 0) this.waiters[peer].delete(header.tag);
      const problem = mismatch(message, waiter.expect);
      if (problem) waiter.reject(this.protocolError(peer, problem));
      else waiter.resolve(message);
      return;
    }
    const queue = this.queues[peer].get(header.tag) ?? [];
    queue.push(message);
    this.queues[peer].set(header.tag, queue);
    this.queuedBytes[peer] += data.byteLength;
  }

  /** For subclasses: the link to `peer` broke (closed, peer exited, connection failed). */
  protected linkFailed(peer: number, reason: string): void {
    if (this.failure || this.closed) return;
    this.fail(new PeerError(peer, this.rank, reason), true);
  }

  /**
   * For subclasses: `peer` closed its link in an orderly way. Messages it already sent stay readable;
   * waiting for one more from it fails.
   */
  protected linkClosed(peer: number): void {
    if (this.failure || this.closed) return;
    this.departed.add(peer);
    if (this.waiters[peer].size > 0) this.fail(new PeerError(peer, this.rank, 'closed its link while this worker waited for it'), true);
  }

  private protocolError(peer: number, problem: string): PeerError {
    const error = new PeerError(peer, this.rank, `invalid message: ${problem}`);
    this.fail(error, true);
    return this.failure ?? error;
  }

  private fail(error: PeerError, notifyPeers: boolean): void {
    if (this.failure) return;
    this.failure = error;
    if (notifyPeers) {
      const notice = encodeAbort({ origin: error.peer, reason: error.reason });
      for (let peer = 0; peer < this.size; peer++) {
        // The peer at fault is told too: it may be waiting on us, and a closed link just drops the notice.
        if (peer === this.rank) continue;
        const copy = notice.slice();
        this.transmit(peer, headerFor(ABORT_TAG, copy), copy).catch(() => {});
      }
    }
    for (const perPeer of this.waiters) {
      for (const list of perPeer.values()) for (const w of list) w.reject(error);
      perPeer.clear();
    }
    for (const perPeer of this.queues) perPeer.clear();
    this.queuedBytes.fill(0);
    for (const listener of this.listeners) listener(error);
  }

  private checkPeer(peer: number, op: string): void {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.size || peer === this.rank) {
      throw new RangeError(`worker ${this.rank} ${op}: peer must be another rank in 0..${this.size - 1}, got ${peer}`);
    }
  }
}

function mismatch(message: TensorMessage, expect: Expectation | undefined): string | null {
  if (!expect) return null;
  if (expect.kind && expect.kind !== message.kind) return `tag ${message.tag.toString(16)}: expected ${expect.kind}, got ${message.kind}`;
  if (expect.shape && (expect.shape.length !== message.shape.length || expect.shape.some((d, i) => d !== message.shape[i]))) {
    return `tag ${message.tag.toString(16)}: expected shape [${expect.shape}], got [${message.shape}]`;
  }
  if (expect.maxElements !== undefined && message.data.length > expect.maxElements) {
    return `tag ${message.tag.toString(16)}: ${message.data.length} elements, at most ${expect.maxElements} expected`;
  }
  return null;
}

interface AbortNotice {
  origin: number | null;
  reason: string;
}

const MAX_REASON = 2000;
/** An abort notice is small JSON: the reason (≤ MAX_REASON UTF-16 units, ≤ 3 bytes each, escaped) and an origin. */
const MAX_NOTICE_BYTES = 6 * MAX_REASON + 64;

function encodeAbort(notice: AbortNotice): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify({ origin: notice.origin, reason: notice.reason.slice(0, MAX_REASON) }));
}

function decodeAbort(data: WireArray): AbortNotice {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(data as Uint8Array)) as { origin?: unknown; reason?: unknown };
    const origin = Number.isInteger(parsed.origin) ? (parsed.origin as number) : null;
    return { origin, reason: String(parsed.reason ?? 'aborted').slice(0, MAX_REASON) };
  } catch {
    return { origin: null, reason: 'aborted (unreadable notice)' };
  }
}
