// A member's side of the rooms protocol (room-protocol.ts): one WebSocket to the room server, a heartbeat,
// the room's state as the server last broadcast it, and per-generation signaling ports for WebRtcTransport.
// Browser-safe: it uses the global WebSocket, or the class the caller passes (ws's, in Node).

import {
  describeRoomClose,
  parseServerMessage,
  type ClientMessage,
  type RoomConfig,
  type RoomLimits,
  type RoomLink,
  type RoomState,
  type ServerMessage,
} from './room-protocol.ts';
import type { SignalingHandlers, WebSocketConstructor, WebSocketLike } from './signaling-client.ts';
import type { SignalingConnector, SignalingPort } from './webrtc-transport.ts';

export interface RoomClientOptions {
  /** ws:// URL of the room server (`webgnn serve`, or the demo's /rooms). */
  server: string;
  /** Shown to the other members (≤ 64 characters). */
  name?: string;
  /** Defaults to globalThis.WebSocket; in Node pass ws's WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** How long the server has to answer the create or join (10 s). */
  timeoutMs?: number;
}

export interface CreateRoomOptions extends RoomClientOptions {
  config: RoomConfig;
  /** Members needed to start. */
  size: number;
  /** Below this many members training pauses (default 1). */
  minMembers?: number;
  /** Most members at once (default size). */
  maxMembers?: number;
}

export interface JoinRoomOptions extends RoomClientOptions {
  room: string;
  secret: string;
}

/** The connection to the room server ended: refused (wrong secret, full room…), dropped, or lost. */
export class RoomClosedError extends Error {
  constructor(
    readonly code: number | undefined,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'RoomClosedError';
  }
}

type Listener<T> = (value: T) => void;

/** Signals that arrived for a generation before its port opened (a faster peer offers first). */
const MAX_EARLY_SIGNALS = 512;

const OPEN = 1;

export class RoomClient {
  state: RoomState | null = null;
  /** Why the connection ended, once it has. */
  closedBy: RoomClosedError | null = null;
  private readonly stateListeners = new Set<Listener<RoomState>>();
  private readonly proceedListeners = new Set<Listener<{ generation: number; epoch: number }>>();
  private readonly closeListeners = new Set<Listener<RoomClosedError>>();
  /** `ready` once the signals that came before the port opened have been handed over (order is kept). */
  private readonly ports = new Map<number, SignalingHandlers & { rankOf: Map<number, number>; ready: boolean }>();
  private readonly early = new Map<number, { from: number; payload: unknown }[]>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastHeard = Date.now();
  private leaving = false;

  private constructor(
    private readonly socket: WebSocketLike,
    readonly server: string,
    readonly room: string,
    readonly secret: string,
    /** This member's id in the room (1, 2, … in join order). */
    readonly id: number,
    readonly config: RoomConfig,
    readonly limits: RoomLimits,
  ) {}

  /** Makes a room on `server` and joins it as its first member (id 1). */
  static create(options: CreateRoomOptions): Promise<RoomClient> {
    const { config, size, minMembers, maxMembers, name } = options;
    return RoomClient.open(options, { type: 'create', config, size, minMembers, maxMembers, name }, `create a room on ${options.server}`);
  }

  /** Joins an existing room with its secret. */
  static join(options: JoinRoomOptions): Promise<RoomClient> {
    return RoomClient.open(options, { type: 'join', room: options.room, secret: options.secret, name: options.name }, `join room ${options.room} on ${options.server}`);
  }

  /** The link others open to join this room. */
  get link(): RoomLink {
    return { server: this.server, room: this.room, secret: this.secret };
  }

  get isOpen(): boolean {
    return this.closedBy === null && !this.leaving && this.socket.readyState === OPEN;
  }

  onState(listener: Listener<RoomState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onProceed(listener: Listener<{ generation: number; epoch: number }>): () => void {
    this.proceedListeners.add(listener);
    return () => this.proceedListeners.delete(listener);
  }

  onClosed(listener: Listener<RoomClosedError>): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** The first room state (the current one included) that satisfies `test`; rejects if the connection ends first. */
  waitForState(test: (state: RoomState) => boolean): Promise<RoomState> {
    if (this.state && test(this.state)) return Promise.resolve(this.state);
    if (this.closedBy) return Promise.reject(this.closedBy);
    return new Promise((resolve, reject) => {
      const stop = () => {
        offState();
        offClosed();
      };
      const offState = this.onState((state) => {
        if (!test(state)) return;
        stop();
        resolve(state);
      });
      const offClosed = this.onClosed((error) => {
        stop();
        reject(error);
      });
    });
  }

  /**
   * After committing `epoch` in `generation`: resolves 'proceed' when the whole room has committed it, or
   * with the new state when the room regrouped instead (a member left or joined); rejects if the connection ends.
   */
  waitForProceed(generation: number, epoch: number): Promise<'proceed' | RoomState> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    if (this.state && this.state.generation !== generation) return Promise.resolve(this.state);
    return new Promise((resolve, reject) => {
      const stop = () => {
        offProceed();
        offState();
        offClosed();
      };
      const offProceed = this.onProceed((p) => {
        if (p.generation !== generation || p.epoch !== epoch) return;
        stop();
        resolve('proceed');
      });
      const offState = this.onState((state) => {
        if (state.generation === generation) return;
        stop();
        resolve(state);
      });
      const offClosed = this.onClosed((error) => {
        stop();
        reject(error);
      });
    });
  }

  commit(generation: number, epoch: number): void {
    this.send({ type: 'commit', generation, epoch });
  }

  failed(generation: number, epoch: number, reason: string, culprit?: number): void {
    this.send({ type: 'failed', generation, epoch, reason: reason.slice(0, 500), ...(culprit !== undefined ? { culprit } : {}) });
  }

  finish(generation: number, epoch: number): void {
    this.send({ type: 'finish', generation, epoch });
  }

  /**
   * Signaling for the transports of `generation`: rank r is the generation's r-th member. Signals of
   * other generations never reach it; those that came before it opened are handed over at once.
   */
  port(generation: number, members: readonly number[]): SignalingConnector {
    return async (handlers) => {
      const rankOf = new Map(members.map((id, rank) => [id, rank]));
      const entry = { ...handlers, rankOf, ready: false };
      this.ports.set(generation, entry);
      // Older generations are over: their ports and early signals go.
      for (const g of [...this.ports.keys()]) if (g < generation) this.ports.delete(g);
      for (const g of [...this.early.keys()]) if (g < generation) this.early.delete(g);
      const self = rankOf.get(this.id);
      const port: SignalingPort = {
        // Every member of the generation is in the room already: each offers to those above it.
        peers: members.map((_, rank) => rank).filter((rank) => rank !== self),
        signal: (to, payload) => {
          const id = members[to];
          if (id !== undefined) this.send({ type: 'signal', to: id, generation, payload });
        },
        leave: async () => {
          this.ports.delete(generation);
        },
      };
      // After the transport has the port (it offers to port.peers first). Signals that arrive until then join
      // the early ones, behind them: an ICE candidate must not overtake the description it belongs to.
      setTimeout(() => {
        entry.ready = true;
        const waiting = this.early.get(generation) ?? [];
        this.early.delete(generation);
        for (const s of waiting) this.deliverSignal(generation, s.from, s.payload);
      }, 0);
      return port;
    };
  }

  /** Orderly leave: says bye, closes the socket, waits up to 1 s for it to close. */
  async leave(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    clearInterval(this.heartbeat);
    if (this.closedBy) return;
    const closed = new Promise<void>((resolve) => {
      this.socket.addEventListener('close', () => resolve());
      setTimeout(resolve, 1000);
    });
    try {
      if (this.socket.readyState === OPEN) this.socket.send(JSON.stringify({ type: 'bye' }));
      this.socket.close(1000, 'leaving');
    } catch {
      // already closing
    }
    await closed;
  }

  private send(message: ClientMessage): void {
    if (this.socket.readyState === OPEN && !this.leaving) this.socket.send(JSON.stringify(message));
  }

  private deliverSignal(generation: number, from: number, payload: unknown): void {
    const port = this.ports.get(generation);
    if (!port || !port.ready) {
      if (this.state && generation < this.state.generation) return;
      const list = this.early.get(generation) ?? [];
      if (list.length < MAX_EARLY_SIGNALS) list.push({ from, payload });
      this.early.set(generation, list);
      return;
    }
    const rank = port.rankOf.get(from);
    // A member outside the generation has nothing to say to its transports.
    if (rank !== undefined) port.signal?.(rank, payload);
  }

  private onMessage(message: ServerMessage): void {
    this.lastHeard = Date.now();
    switch (message.type) {
      case 'room': {
        const { type: _type, ...state } = message;
        this.state = state;
        // A transport still linking an older generation gives up at once instead of waiting out its timeout.
        for (const [g, port] of [...this.ports]) {
          if (g >= state.generation) continue;
          this.ports.delete(g);
          port.closed?.(`the room moved on to generation ${state.generation}`);
        }
        for (const listener of [...this.stateListeners]) listener(state);
        return;
      }
      case 'proceed':
        for (const listener of [...this.proceedListeners]) listener({ generation: message.generation, epoch: message.epoch });
        return;
      case 'signal':
        this.deliverSignal(message.generation, message.from, message.payload);
        return;
      default:
        return;
    }
  }

  private onClose(code: number | undefined, reason: string | undefined): void {
    clearInterval(this.heartbeat);
    if (this.closedBy) return;
    this.closedBy = new RoomClosedError(code, describeRoomClose(code, reason));
    for (const port of this.ports.values()) port.closed?.(this.closedBy.message);
    if (this.leaving) return;
    for (const listener of [...this.closeListeners]) listener(this.closedBy);
  }

  private startHeartbeat(): void {
    const { heartbeatMs, heartbeatTimeoutMs } = this.limits;
    this.heartbeat = setInterval(
      () => {
        // The server answers every ping: silence as long as it would drop us means it is gone.
        if (Date.now() - this.lastHeard > heartbeatTimeoutMs) {
          try {
            this.socket.close(4006, 'room server silent');
          } catch {
            // closing anyway
          }
          this.onClose(1006, `the room server sent nothing for ${heartbeatTimeoutMs} ms`);
          return;
        }
        this.send({ type: 'ping' });
      },
      Math.max(50, heartbeatMs),
    );
    (this.heartbeat as { unref?: () => void }).unref?.();
  }

  private static open(options: RoomClientOptions, first: ClientMessage, what: string): Promise<RoomClient> {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) return Promise.reject(new Error('rooms: no WebSocket available; pass options.WebSocket (in Node, the `ws` package)'));
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<RoomClient>((resolve, reject) => {
      let client: RoomClient | null = null;
      let settled = false;
      let socket: WebSocketLike;
      try {
        socket = new Ctor(options.server);
      } catch (e) {
        reject(new Error(`could not ${what}: ${(e as Error).message}`));
        return;
      }
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new Error(`could not ${what}: no answer within ${timeoutMs} ms`));
        try {
          socket.close();
        } catch {
          // not open yet
        }
      }, timeoutMs);
      socket.addEventListener('open', () => socket.send(JSON.stringify(first)));
      socket.addEventListener('error', () => {
        // A close event follows; the reason is reported there.
      });
      socket.addEventListener('close', (event: { code?: number; reason?: string }) => {
        if (!client) return fail(new RoomClosedError(event.code, `could not ${what}: ${describeRoomClose(event.code, event.reason)}`));
        client.onClose(event.code, event.reason);
      });
      socket.addEventListener('message', (event: { data: unknown }) => {
        const message = parseServerMessage(typeof event.data === 'string' ? event.data : String(event.data));
        if (!message) return;
        if (client) return client.onMessage(message);
        if (message.type !== 'welcome' || settled) return;
        client = new RoomClient(socket, options.server, message.room, message.secret, message.id, message.config, message.limits);
        client.startHeartbeat();
        settled = true;
        clearTimeout(timer);
        resolve(client);
      });
    });
  }
}
