// WebRTC transport: one ordered, reliable data channel per pair of workers. Browser-safe — the same file
// runs in a Chromium tab (globalThis.RTCPeerConnection, globalThis.WebSocket) and in Node, where the
// caller injects @roamhq/wrtc's RTCPeerConnection and ws's WebSocket.
//
// Framing: a tensor message is the 40-byte wire header followed by its payload, cut into data-channel
// messages ("chunks") of at most 256 KiB; the header rides at the front of the first chunk. The receiver
// validates the header (decodeHeader, then admit) before allocating exactly the declared length, and a
// chunk that would overrun it ends the sender's session. Text messages are control: "goodbye", and
// "ping"/"pong" (a liveness probe, allowed between any two chunks).
//
// Orderly close is a two-way goodbye: the closing side sends "goodbye" after its queued messages, the
// other side answers with its own "goodbye" and sends nothing more on that channel; only once both have
// been said is the channel torn down. Besides telling the peer that the end is orderly, this keeps
// anyone from sending on a channel the other side is closing: wrtc (0.10) clears its native channel on
// another thread when it closes, and a send racing that crashes the process (SIGSEGV seen here).
//
// Failure detection, fastest first: the signaling server's {type:'left'} when a peer's socket closes (a
// killed process: about 0.25 s), the data channel's close/error, and the peer connection's state. wrtc
// reports a silent peer as 'disconnected' 5–7.5 s after its last packet, but sometimes flips straight
// back to 'connected' (another candidate pair) and only says 'failed' some 10 s later; so any state change
// after the channel opened sends a "ping", and a peer that sends nothing at all within a short grace
// counts as lost (6–8.5 s in all). The grace is not a general heartbeat on purpose: SCTP can stall a
// healthy link for seconds after a loss, while ICE's own checks keep running.

import { BaseTransport, PeerError, type TransportOptions } from './transport.ts';
import { decodeHeader, encodeHeader, HEADER_BYTES, viewAs, type WireArray, type WireHeader } from './wire.ts';
import { SignalingClient, type SignalingHandlers, type WebSocketConstructor } from './signaling-client.ts';

/** Largest data-channel message sent or accepted, header included (the SCTP limit Chromium and wrtc share). */
export const MAX_CHUNK_BYTES = 256 * 1024;
/** Stop handing chunks to a channel above this many queued bytes (Chromium throws past 16 MiB). */
export const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Resume once the queue has drained to this. */
export const LOW_WATER_BYTES = 1024 * 1024;

const GOODBYE = 'goodbye';
const PING = 'ping';
const PONG = 'pong';
const CHANNEL_LABEL = 'webgnn';

export type PeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

/** How a transport reaches its peers to exchange descriptions and candidates (a signaling server, a room). */
export interface SignalingPort {
  /** Ranks already present when the port opened (the lower rank of each pair offers). */
  readonly peers: readonly number[];
  signal(to: number, payload: unknown): void;
  leave(): Promise<void>;
}

/** Opens a port; `handlers` are in place before anything can arrive. */
export type SignalingConnector = (handlers: SignalingHandlers) => Promise<SignalingPort>;

export interface WebRtcOptions extends TransportOptions {
  rank: number;
  size: number;
  /** ws:// URL of a signaling server (signaling-server.ts); not needed with `signaling`. */
  signalingUrl?: string;
  /** Peers with the same room (and secret) are linked to each other. */
  room?: string;
  secret?: string;
  /** Signaling of one's own instead of a signaling server (a room's generation, room-client.ts). */
  signaling?: SignalingConnector;
  /** Defaults to globalThis.RTCPeerConnection (browsers); in Node pass @roamhq/wrtc's. */
  RTCPeerConnection?: PeerConnectionConstructor;
  /** Defaults to globalThis.WebSocket; in Node pass ws's WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Defaults to none: host candidates only. */
  iceServers?: RTCIceServer[];
  /** Time for every channel to open, from the call (30 s). */
  timeoutMs?: number;
  /** After a peer connection state change, how long the peer has to answer a ping (1 s). */
  disconnectGraceMs?: number;
  /** After the signaling server says a peer left without a goodbye, how long to wait for one anyway (250 ms). */
  leftGraceMs?: number;
}

interface Incoming {
  header: WireHeader;
  bytes: Uint8Array<ArrayBuffer>;
  filled: number;
}

interface Link {
  peer: number;
  pc: RTCPeerConnection;
  channel: RTCDataChannel;
  open: boolean;
  /** The channel fires 'bufferedamountlow' (browsers do; wrtc does not). */
  lowEvent: boolean;
  /** Offer sent (lower rank) or accepted (higher rank). */
  negotiated: boolean;
  /** Remote signals are applied one at a time, in arrival order (a candidate waits for its description). */
  signals: Promise<void>;
  /** Messages go out one at a time, so chunks of two messages never interleave. */
  sends: Promise<void>;
  /** The peer said goodbye: it sends nothing more, and nothing more is sent to it. */
  peerSaidGoodbye: boolean;
  /** Our goodbye is queued: nothing new may be sent after it. */
  goodbyeSent: boolean;
  /** Resolves when the peer's goodbye arrives or the channel closes. */
  ended: Promise<void>;
  end: () => void;
  incoming: Incoming | null;
  /** Messages received so far: any of them shows the peer is alive. */
  heard: number;
  probing: boolean;
  sawConnected: boolean;
  timers: Set<ReturnType<typeof setTimeout>>;
}

export class WebRtcTransport extends BaseTransport {
  readonly name = 'webrtc' as const;
  /**
   * How long close() waits for each peer's queued messages and goodbye. A room that regrouped lowers it:
   * a member that left will never answer, and the others are about to link again.
   */
  closeGraceMs = 2000;
  private readonly links: (Link | null)[];
  private signaling: SignalingPort | null = null;
  private closing = false;
  private readonly options: WebRtcOptions;
  private readonly PeerConnection: PeerConnectionConstructor;
  /** Resolves/rejects connect(); null once connected. */
  private connectWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;

  private constructor(options: WebRtcOptions) {
    super(options.rank, options.size, options);
    this.options = options;
    const Ctor = options.RTCPeerConnection ?? (globalThis as { RTCPeerConnection?: PeerConnectionConstructor }).RTCPeerConnection;
    if (!Ctor) throw new Error('webrtc: no RTCPeerConnection available; pass options.RTCPeerConnection (in Node, from @roamhq/wrtc)');
    this.PeerConnection = Ctor;
    this.links = Array.from({ length: options.size }, () => null);
  }

  /** Joins the room and resolves once a data channel to every other rank is open. */
  static async connect(options: WebRtcOptions): Promise<WebRtcTransport> {
    const transport = new WebRtcTransport(options);
    try {
      await transport.start();
      return transport;
    } catch (e) {
      await transport.close();
      throw e;
    }
  }

  /**
   * Test hook: puts raw bytes (or text) on the data channel to `peer`, bypassing framing, so tests can
   * check that the receiver refuses malformed input.
   */
  async sendRaw(peer: number, data: Uint8Array<ArrayBuffer> | string): Promise<void> {
    const link = this.links[peer];
    if (!link) throw new RangeError(`worker ${this.rank} sendRaw: no link to ${peer}`);
    if (!link.open || link.peerSaidGoodbye || link.goodbyeSent) throw new Error(`worker ${this.rank} sendRaw: link to ${peer} is not open`);
    const run = link.sends.then(() => this.sendChunk(link, data));
    link.sends = run.catch(() => {});
    return run;
  }

  protected transmit(peer: number, header: WireHeader, data: WireArray): Promise<void> {
    const link = this.links[peer];
    if (!link || !link.open || link.peerSaidGoodbye || link.goodbyeSent) {
      return Promise.reject(this.failure ?? new PeerError(peer, this.rank, link?.peerSaidGoodbye ? 'closed its link' : 'no open data channel'));
    }
    const run = link.sends.then(() => this.sendMessage(link, header, data));
    link.sends = run.catch(() => {});
    return run;
  }

  protected async closeLinks(): Promise<void> {
    this.closing = true;
    this.connectWaiter?.reject(new Error(`webrtc connect: rank ${this.rank} closed before every channel opened`));
    await Promise.all(this.links.map((link) => (link ? this.closeLink(link) : undefined)));
    await this.signaling?.leave();
  }

  private async start(): Promise<void> {
    const { rank, size } = this;
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    for (let peer = 0; peer < size; peer++) if (peer !== rank) this.links[peer] = this.createLink(peer);

    const ready = new Promise<void>((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
    });
    // It may be rejected (timeout, failure) while the signaling join is still pending; awaited below.
    ready.catch(() => {});
    const stopFailure = this.onFailure((error) => this.connectWaiter?.reject(error));
    const timer = setTimeout(() => {
      const missing = this.links.flatMap((l) => (l && !l.open ? [l.peer] : []));
      this.connectWaiter?.reject(new Error(`webrtc connect: rank ${rank} of ${size} in room ${this.options.room ?? "(given signaling)"}: no data channel to ranks [${missing}] after ${timeoutMs} ms`));
    }, timeoutMs);

    try {
      const handlers: SignalingHandlers = {
        joined: (peer) => this.offerTo(peer),
        signal: (from, payload) => this.onSignal(from, payload),
        left: (peer, orderly) => this.onPeerLeft(peer, orderly),
        closed: (reason) => {
          // Once connected, the channels do not need the server; only the quick 'left' notices are lost.
          this.connectWaiter?.reject(new Error(`webrtc connect: rank ${rank}: signaling connection lost: ${reason}`));
        },
      };
      const { signaling, signalingUrl, room, secret } = this.options;
      if (!signaling && (signalingUrl === undefined || room === undefined || secret === undefined)) {
        throw new Error('webrtc connect: give either signaling, or signalingUrl, room and secret');
      }
      this.signaling = signaling
        ? await signaling(handlers)
        : await SignalingClient.connect({ url: signalingUrl!, room: room!, rank, size, secret: secret!, WebSocket: this.options.WebSocket, timeoutMs, handlers });
      for (const peer of this.signaling.peers) this.offerTo(peer);
      this.checkReady();
      await ready;
    } finally {
      clearTimeout(timer);
      stopFailure();
      this.connectWaiter = null;
    }
  }

  private createLink(peer: number): Link {
    const pc = new this.PeerConnection({ iceServers: this.options.iceServers ?? [] });
    // Negotiated with a fixed id: both sides create the same channel, no in-band announcement needed.
    const channel = pc.createDataChannel(CHANNEL_LABEL, { negotiated: true, id: 0, ordered: true });
    channel.binaryType = 'arraybuffer';
    // Checked before assigning: on wrtc the assignment would just add a plain property.
    const lowEvent = typeof channel.bufferedAmountLowThreshold === 'number';
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    let end = () => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    const link: Link = {
      peer,
      pc,
      channel,
      open: false,
      lowEvent,
      negotiated: false,
      signals: Promise.resolve(),
      sends: Promise.resolve(),
      peerSaidGoodbye: false,
      goodbyeSent: false,
      ended,
      end,
      incoming: null,
      heard: 0,
      probing: false,
      sawConnected: false,
      timers: new Set(),
    };

    pc.onicecandidate = (event) => {
      const c = event.candidate;
      if (c && c.candidate) this.signaling?.signal(peer, { candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
    };
    // Only the one negotiated channel exists; a peer that opens more is ignored.
    pc.ondatachannel = (event) => event.channel.close();
    pc.onconnectionstatechange = () => this.onConnectionState(link);

    channel.onopen = () => {
      link.open = true;
      this.checkReady();
    };
    channel.onmessage = (event) => this.onChunk(link, event.data);
    channel.onclose = () => {
      link.open = false;
      link.end();
      if (link.peerSaidGoodbye || this.closing) return;
      this.linkFailed(peer, link.incoming ? 'data channel closed in the middle of a message' : 'data channel closed without a goodbye');
    };
    channel.onerror = (event) => {
      if (link.peerSaidGoodbye || this.closing) return;
      const error = (event as RTCErrorEvent).error as Error | undefined;
      this.linkFailed(peer, `data channel error: ${error?.message ?? 'unknown'}`);
    };
    return link;
  }

  private checkReady(): void {
    if (this.links.every((l) => !l || l.open)) this.connectWaiter?.resolve();
  }

  /** The lower rank of a pair makes the offer, once it knows the other has joined. */
  private offerTo(peer: number): void {
    const link = this.links[peer];
    if (!link || peer < this.rank || link.negotiated) return;
    link.negotiated = true;
    this.enqueueSignal(link, async () => {
      const offer = await link.pc.createOffer();
      await link.pc.setLocalDescription(offer);
      this.signaling?.signal(peer, { description: { type: 'offer', sdp: offer.sdp } });
    });
  }

  /** Signals come from peers: untrusted, so checked for shape and for who may send what. */
  private onSignal(from: number, payload: unknown): void {
    const link = Number.isInteger(from) ? this.links[from] : null;
    if (!link) return;
    const p = (payload ?? {}) as { description?: { type?: unknown; sdp?: unknown }; candidate?: { candidate?: unknown; sdpMid?: unknown; sdpMLineIndex?: unknown } };
    if (p.description) {
      const { type, sdp } = p.description;
      const expected: RTCSdpType = from < this.rank ? 'offer' : 'answer';
      if (type !== expected || typeof sdp !== 'string' || (expected === 'offer' && link.negotiated)) {
        this.linkFailed(from, `signaling: unexpected ${String(type)} description (expected one ${expected})`);
        return;
      }
      if (expected === 'offer') link.negotiated = true;
      this.enqueueSignal(link, async () => {
        await link.pc.setRemoteDescription({ type: expected, sdp });
        if (expected === 'offer') {
          const answer = await link.pc.createAnswer();
          await link.pc.setLocalDescription(answer);
          this.signaling?.signal(from, { description: { type: 'answer', sdp: answer.sdp } });
        }
      });
    } else if (p.candidate) {
      const { candidate, sdpMid, sdpMLineIndex } = p.candidate;
      if (typeof candidate !== 'string') {
        this.linkFailed(from, 'signaling: ICE candidate is not a string');
        return;
      }
      this.enqueueSignal(link, () =>
        link.pc.addIceCandidate({
          candidate,
          sdpMid: typeof sdpMid === 'string' ? sdpMid : null,
          sdpMLineIndex: typeof sdpMLineIndex === 'number' ? sdpMLineIndex : null,
        }),
      );
    } else {
      this.linkFailed(from, 'signaling: message is neither a description nor a candidate');
    }
  }

  private enqueueSignal(link: Link, step: () => Promise<void>): void {
    link.signals = link.signals.then(step).catch((e: Error) => {
      if (!this.closing) this.linkFailed(link.peer, `signaling: ${e?.message ?? e}`);
    });
  }

  private onPeerLeft(peer: number, orderly: boolean): void {
    const link = this.links[peer];
    if (!link || link.peerSaidGoodbye || this.closing) return;
    // An orderly leaver said goodbye on its channel before leaving; allow for that notice racing this one.
    const graceMs = orderly ? 3000 : (this.options.leftGraceMs ?? 250);
    this.later(link, graceMs, () => {
      if (!link.peerSaidGoodbye) this.linkFailed(peer, `left the signaling room without a goodbye${orderly ? '' : ' (process ended or connection lost)'}`);
    });
  }

  private onConnectionState(link: Link): void {
    if (link.peerSaidGoodbye || this.closing) return;
    const state = link.pc.connectionState;
    if (state === 'failed') return this.linkFailed(link.peer, 'peer connection failed');
    if (!link.open || state === 'closed') return;
    // Before the first 'connected', 'new' and 'connecting' are the link's start, not a flap: Chromium may
    // dispatch 'connecting' after the channel's 'open' (seen in room tabs), and a probe then may drop a busy peer.
    if (!link.sawConnected && (state === 'new' || state === 'connecting')) return;
    // The first 'connected' is the normal start; any other change (a second 'connected' is a flap of the
    // selected candidate pair) raises the question whether the peer is still there.
    if (state === 'connected' && !link.sawConnected) {
      link.sawConnected = true;
      return;
    }
    this.probe(link, state);
  }

  /** Sends a ping; if nothing at all arrives from the peer within the grace, the link is lost. */
  private probe(link: Link, state: string): void {
    if (link.probing) return;
    link.probing = true;
    const heard = link.heard;
    try {
      if (this.usable(link)) link.channel.send(PING);
    } catch {
      // the channel is going down: its close event will tell
    }
    const graceMs = this.options.disconnectGraceMs ?? 1000;
    this.later(link, graceMs, () => {
      link.probing = false;
      if (link.heard === heard && !link.peerSaidGoodbye) {
        this.linkFailed(link.peer, `peer connection went ${state} and the peer sent nothing within ${graceMs} ms`);
      }
    });
  }

  private later(link: Link, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      link.timers.delete(timer);
      if (!this.closing) action();
    }, ms);
    link.timers.add(timer);
  }

  // ---- sending ----

  private async sendMessage(link: Link, header: WireHeader, data: WireArray): Promise<void> {
    const payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const firstBytes = Math.min(payload.length, MAX_CHUNK_BYTES - HEADER_BYTES);
    const first = new Uint8Array(HEADER_BYTES + firstBytes);
    first.set(encodeHeader(header));
    first.set(payload.subarray(0, firstBytes), HEADER_BYTES);
    await this.sendChunk(link, first);
    for (let offset = firstBytes; offset < payload.length; offset += MAX_CHUNK_BYTES) {
      await this.sendChunk(link, payload.subarray(offset, offset + MAX_CHUNK_BYTES));
    }
  }

  private async sendChunk(link: Link, chunk: Uint8Array<ArrayBuffer> | string): Promise<void> {
    if (this.usable(link) && link.channel.bufferedAmount > HIGH_WATER_BYTES) await this.drained(link);
    if (!this.usable(link)) throw this.failure ?? new PeerError(link.peer, this.rank, link.peerSaidGoodbye ? 'closed its link' : 'data channel is not open');
    if (typeof chunk === 'string') link.channel.send(chunk);
    else link.channel.send(chunk);
  }

  /**
   * Whether the channel may be touched (send, bufferedAmount). Decided from our own flags rather than
   * readyState: once the peer has said goodbye its side may be closing the channel, and wrtc must not be
   * called then (see the header comment). A peer that failed is still sent to: BaseTransport tells the
   * peer at fault why its session ended.
   */
  private usable(link: Link): boolean {
    return link.open && !link.peerSaidGoodbye;
  }

  /**
   * Resolves when the channel's queue is down to LOW_WATER_BYTES. Browsers fire 'bufferedamountlow';
   * wrtc has no bufferedAmountLowThreshold and never fires it, so a short poll backs the event up.
   */
  private drained(link: Link): Promise<void> {
    const channel = link.channel;
    const pollMs = link.lowEvent ? 50 : 1;
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const check = (): void => {
        clearTimeout(timer);
        if (!this.usable(link)) return finish(new Error(link.peerSaidGoodbye ? 'closed its link' : 'data channel closed'));
        if (channel.bufferedAmount <= LOW_WATER_BYTES) return finish();
        timer = setTimeout(check, pollMs);
      };
      const finish = (error?: Error): void => {
        channel.removeEventListener('bufferedamountlow', check);
        if (error) reject(error);
        else resolve();
      };
      channel.addEventListener('bufferedamountlow', check);
      timer = setTimeout(check, pollMs);
    }).catch((e: Error) => {
      throw this.failure ?? new PeerError(link.peer, this.rank, e.message);
    });
  }

  // ---- receiving ----

  private onChunk(link: Link, data: unknown): void {
    if (link.peerSaidGoodbye) return;
    link.heard++;
    const peer = link.peer;
    if (data === PING) {
      try {
        if (this.usable(link) && !link.goodbyeSent) link.channel.send(PONG);
      } catch {
        // closing
      }
      return;
    }
    if (data === PONG) return;
    if (data === GOODBYE) {
      // Handled even after a failure or during our own close: the answer lets the peer finish closing.
      if (link.incoming && !this.failure && !this.closing) {
        const { filled, header } = link.incoming;
        this.linkFailed(peer, `invalid message: truncated: said goodbye after ${filled} of ${header.byteLength} bytes of tag ${header.tag.toString(16)}`);
      }
      link.peerSaidGoodbye = true;
      link.incoming = null;
      for (const timer of link.timers) clearTimeout(timer);
      link.end();
      this.sayGoodbye(link);
      this.linkClosed(peer);
      return;
    }
    if (this.failure || this.closing) return;
    if (typeof data === 'string') {
      return this.linkFailed(peer, `invalid message: unexpected text on the data channel (${JSON.stringify(data.slice(0, 40))})`);
    }
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else return this.linkFailed(peer, 'invalid message: data channel delivered neither text nor binary data');
    if (bytes.length > MAX_CHUNK_BYTES) return this.linkFailed(peer, `invalid message: chunk of ${bytes.length} bytes exceeds ${MAX_CHUNK_BYTES}`);

    let incoming = link.incoming;
    if (!incoming) {
      let header: WireHeader;
      try {
        header = decodeHeader(bytes, this.limits, `worker ${this.rank} from peer ${peer}`);
      } catch (e) {
        return this.linkFailed(peer, `invalid message: ${(e as Error).message}`);
      }
      if (!this.admit(peer, header)) return;
      bytes = bytes.subarray(HEADER_BYTES);
      if (bytes.length > header.byteLength) {
        return this.linkFailed(peer, `invalid message: first chunk carries ${bytes.length} payload bytes, header declares ${header.byteLength}`);
      }
      // Only now, with the header validated against the limits, is room made for the payload.
      incoming = { header, bytes: new Uint8Array(header.byteLength), filled: 0 };
      link.incoming = incoming;
    } else if (incoming.filled + bytes.length > incoming.header.byteLength) {
      return this.linkFailed(
        peer,
        `invalid message: chunk overruns the declared length (${incoming.filled} + ${bytes.length} > ${incoming.header.byteLength} bytes, tag ${incoming.header.tag.toString(16)})`,
      );
    }
    incoming.bytes.set(bytes, incoming.filled);
    incoming.filled += bytes.length;
    if (incoming.filled === incoming.header.byteLength) {
      link.incoming = null;
      const { header } = incoming;
      this.deliver(peer, header, viewAs(header.kind, incoming.bytes.buffer, 0, header.byteLength));
    }
  }

  // ---- closing ----

  /** Queues our goodbye behind the messages already queued; after it nothing is sent on this link. */
  private sayGoodbye(link: Link): void {
    if (link.goodbyeSent || !link.open) return;
    link.goodbyeSent = true;
    link.sends = link.sends.then(() => {
      // Not usable() here: a peer that said goodbye waits for ours, even one that broke the protocol.
      if (!link.open || (this.failure?.peer === link.peer && !link.peerSaidGoodbye)) return;
      try {
        link.channel.send(GOODBYE);
      } catch {
        // queue full or closing: the peer will see the channel close instead
      }
    });
  }

  private async closeLink(link: Link): Promise<void> {
    for (const timer of link.timers) clearTimeout(timer);
    link.timers.clear();
    // A peer that failed (killed, broken link, broke the protocol) gets no goodbye and no waiting.
    if (link.open && this.failure?.peer !== link.peer) {
      // Queued messages (and abort notices) go first, then the goodbye on the same ordered channel; then
      // wait for the peer's goodbye (its answer, or its own close). Bounded: a dead peer answers nothing.
      this.sayGoodbye(link);
      await within(link.sends, this.closeGraceMs);
      await within(link.ended, this.closeGraceMs);
    }
    try {
      // Closes the channel too; after both goodbyes nobody sends on it any more.
      link.pc.close();
    } catch {
      // already closed
    }
  }
}

/** Joins `room` on the signaling server and links this rank to every other by a data channel. */
export function connectWebRtc(options: WebRtcOptions): Promise<WebRtcTransport> {
  return WebRtcTransport.connect(options);
}

/** Waits for `promise` (never rejects) or `ms`, whichever comes first, leaving no timer behind. */
function within(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}
