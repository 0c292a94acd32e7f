// Client side of the signaling protocol (see signaling-server.ts for the messages). Browser-safe: it
// uses the global WebSocket when there is one; in Node the caller passes `ws`'s WebSocket class, so this
// file imports nothing from Node.

/** The part of the WebSocket API used here; both the browser's WebSocket and `ws`'s class fit it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: the browser's and ws's event types differ; only .data, .code and .reason are read.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface SignalingHandlers {
  /** Another peer joined the room. */
  joined?(rank: number): void;
  /** A peer relayed an SDP description or ICE candidate to this one. */
  signal?(from: number, payload: unknown): void;
  /** A peer's socket closed; `orderly` when it said bye first. */
  left?(rank: number, orderly: boolean): void;
  /** This client's socket closed after the join (not called for leave()). */
  closed?(reason: string): void;
}

export interface SignalingClientOptions {
  url: string;
  room: string;
  rank: number;
  size: number;
  secret: string;
  /** Defaults to globalThis.WebSocket; required in Node (pass `ws`'s WebSocket). */
  WebSocket?: WebSocketConstructor;
  /** Set before the first message can arrive, so no event is missed. */
  handlers?: SignalingHandlers;
  /** How long to wait for the server to accept the join (10 s). */
  timeoutMs?: number;
}

const OPEN = 1;
const CLOSED = 3;

export class SignalingClient {
  private leaving = false;

  private constructor(
    private readonly socket: WebSocketLike,
    /** Ranks already in the room when this client joined. */
    readonly peers: readonly number[],
    readonly rank: number,
  ) {}

  /** Relays `payload` (JSON-serialisable) to `to`. Dropped silently if this socket is gone. */
  signal(to: number, payload: unknown): void {
    if (this.socket.readyState === OPEN) this.socket.send(JSON.stringify({ type: 'signal', to, payload }));
  }

  get isOpen(): boolean {
    return this.socket.readyState === OPEN && !this.leaving;
  }

  /** Orderly leave: says bye (the room hears orderly: true), closes the socket, waits up to 1 s for it. */
  async leave(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    if (this.socket.readyState === CLOSED) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = new Promise<void>((resolve) => {
      this.socket.addEventListener('close', () => resolve());
      timer = setTimeout(resolve, 1000);
    });
    try {
      if (this.socket.readyState === OPEN) this.socket.send(JSON.stringify({ type: 'bye' }));
      this.socket.close(1000, 'leaving');
    } catch {
      // already closing
    }
    await closed;
    clearTimeout(timer);
  }

  /** Opens a socket to `url` and joins `room` as `rank`; resolves once the server accepted the join. */
  static connect(options: SignalingClientOptions): Promise<SignalingClient> {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) return Promise.reject(new Error('signaling: no WebSocket available; pass options.WebSocket (in Node, the `ws` package)'));
    const where = `signaling ${options.url} (room ${options.room}, rank ${options.rank})`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const handlers = options.handlers ?? {};

    return new Promise<SignalingClient>((resolve, reject) => {
      let client: SignalingClient | null = null;
      let settled = false;
      let socket: WebSocketLike;
      try {
        socket = new Ctor(options.url);
      } catch (e) {
        reject(new Error(`${where}: cannot open: ${(e as Error).message}`));
        return;
      }
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        try {
          socket.close();
        } catch {
          // not open yet
        }
        reject(new Error(`${where}: no answer to the join within ${timeoutMs} ms`));
      }, timeoutMs);

      socket.addEventListener('open', () => {
        socket.send(JSON.stringify({ type: 'join', room: options.room, rank: options.rank, size: options.size, secret: options.secret }));
      });
      socket.addEventListener('error', () => {
        // A close event always follows an error; the reason is reported there.
      });
      socket.addEventListener('close', (event: { code?: number; reason?: string }) => {
        clearTimeout(timer);
        const reason = describeClose(event.code, event.reason);
        if (!settled) {
          settled = true;
          reject(new Error(`${where}: server refused or dropped the connection: ${reason}`));
          return;
        }
        if (client && !client.leaving) handlers.closed?.(reason);
      });
      socket.addEventListener('message', (event: { data: unknown }) => {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(typeof event.data === 'string' ? event.data : String(event.data)) as Record<string, unknown>;
        } catch {
          return; // the server only sends JSON; ignore anything else
        }
        if (!client) {
          if (message.type !== 'welcome' || settled) return;
          const peers = Array.isArray(message.peers) ? message.peers.filter((r): r is number => Number.isInteger(r)) : [];
          client = new SignalingClient(socket, peers, options.rank);
          settled = true;
          clearTimeout(timer);
          resolve(client);
          return;
        }
        if (client.leaving) return;
        switch (message.type) {
          case 'joined':
            if (Number.isInteger(message.rank)) handlers.joined?.(message.rank as number);
            return;
          case 'signal':
            if (Number.isInteger(message.from)) handlers.signal?.(message.from as number, message.payload);
            return;
          case 'left':
            if (Number.isInteger(message.rank)) handlers.left?.(message.rank as number, message.orderly === true);
            return;
        }
      });
    });
  }
}

function describeClose(code: number | undefined, reason: string | undefined): string {
  if (reason) return `${reason} (code ${code})`;
  switch (code) {
    case 1009:
      return 'message too large (code 1009)';
    case 1006:
      return 'connection lost (code 1006)';
    case 1001:
      return 'server going away (code 1001)';
    default:
      return `closed with code ${code ?? 'unknown'}`;
  }
}

/** Same as SignalingClient.connect. */
export function connectSignaling(options: SignalingClientOptions): Promise<SignalingClient> {
  return SignalingClient.connect(options);
}
