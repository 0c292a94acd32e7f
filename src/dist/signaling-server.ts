// Node-only signaling server for WebRTC peers: a WebSocket server on loopback that groups peers into
// rooms and relays their SDP offers/answers and ICE candidates. It carries no tensor data. It is also
// how a killed peer is noticed quickly: when a peer's socket closes, the rest of its room hears
// {type:'left', rank} at once, long before ICE would time out.
//
// Protocol (JSON text frames; see signaling-client.ts for the other side):
//   client → server  {type:'join', room, rank, size, secret}   first message, exactly once
//                    {type:'signal', to, payload}              relayed to rank `to` of the same room
//                    {type:'bye'}                              orderly leave (the socket closes next)
//   server → client  {type:'welcome', peers:[rank…]}           join accepted; ranks already present
//                    {type:'joined', rank}                     another peer joined the room
//                    {type:'signal', from, payload}
//                    {type:'left', rank, orderly}              a peer's socket closed
// Anything else — a wrong secret, malformed JSON, an oversized frame, a duplicate rank, a full room —
// closes that one socket with a reason; the server keeps serving everyone else.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SignalingServerOptions {
  /** Loopback only (127.0.0.1 by default): the server never listens on a real interface. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Every join must carry this secret. */
  secret: string;
  /** Largest frame a client may send, in bytes (64 KiB). */
  maxMessageBytes?: number;
  maxRooms?: number;
  maxPeersPerRoom?: number;
  /** A socket that has not joined within this time is closed (10 s). */
  joinTimeoutMs?: number;
}

export interface SignalingServer {
  /** ws://host:port */
  readonly url: string;
  readonly port: number;
  /** Closes every client socket and stops listening. */
  close(): Promise<void>;
}

/** Close codes the client turns into messages (4000–4999 are free for applications). */
export const SIGNALING_CLOSE = {
  /** The client broke the protocol (bad JSON, wrong fields, oversized frame, …). */
  protocol: 4000,
  /** The secret did not match. */
  secret: 4001,
  /** The room or the server is full, or the rank is taken. */
  refused: 4002,
  /** No join in time. */
  timeout: 4003,
  serverClosing: 1001,
} as const;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MAX_ROOM_NAME = 128;

interface Member {
  socket: WebSocket;
  rank: number;
  orderly: boolean;
}

interface Room {
  size: number;
  members: Map<number, Member>;
}

export async function startSignalingServer(options: SignalingServerOptions): Promise<SignalingServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`signaling server: host must be a loopback address (127.0.0.1), got ${host}`);
  if (typeof options.secret !== 'string' || options.secret.length === 0) throw new Error('signaling server: a non-empty secret is required');
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
  const maxRooms = options.maxRooms ?? 64;
  const maxPeersPerRoom = options.maxPeersPerRoom ?? 64;
  const joinTimeoutMs = options.joinTimeoutMs ?? 10_000;
  for (const [name, v] of Object.entries({ maxMessageBytes, maxRooms, maxPeersPerRoom, joinTimeoutMs })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`signaling server: ${name} must be a positive integer, got ${v}`);
  }
  const secretDigest = digest(options.secret);
  const rooms = new Map<string, Room>();

  const wss = new WebSocketServer({ host, port: options.port ?? 0, maxPayload: maxMessageBytes, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  // After startup, a server-level error (rare: e.g. accept failures) must not take the process down.
  wss.on('error', () => {});

  wss.on('connection', (socket) => {
    let member: Member | null = null;
    let roomName = '';
    let refused = false;
    const refuse = (code: number, reason: string) => {
      refused = true;
      // Close reasons are limited to 123 bytes by the WebSocket protocol.
      socket.close(code, reason.slice(0, 120));
      // A client that ignores the close handshake is cut off.
      setTimeout(() => socket.terminate(), 1000).unref();
    };
    const joinTimer = setTimeout(() => refuse(SIGNALING_CLOSE.timeout, `no join within ${joinTimeoutMs} ms`), joinTimeoutMs);
    joinTimer.unref();

    // ws closes the socket itself (1009) when a frame exceeds maxPayload and reports it here.
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => {
      if (refused) return;
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
      if (bytes > maxMessageBytes) return refuse(SIGNALING_CLOSE.protocol, `message of ${bytes} bytes exceeds the limit of ${maxMessageBytes}`);
      if (isBinary) return refuse(SIGNALING_CLOSE.protocol, 'binary frames are not part of the signaling protocol');
      let message: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(String(data));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        message = parsed as Record<string, unknown>;
      } catch {
        return refuse(SIGNALING_CLOSE.protocol, 'malformed message: not a JSON object');
      }

      if (!member) {
        if (message.type !== 'join') return refuse(SIGNALING_CLOSE.protocol, `first message must be a join, got ${describeType(message.type)}`);
        const { room, rank, size, secret } = message;
        if (typeof secret !== 'string' || !timingSafeEqual(digest(secret), secretDigest)) return refuse(SIGNALING_CLOSE.secret, 'wrong secret');
        if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_NAME) {
          return refuse(SIGNALING_CLOSE.protocol, `room must be a string of 1..${MAX_ROOM_NAME} characters`);
        }
        if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > maxPeersPerRoom) {
          return refuse(SIGNALING_CLOSE.refused, `size must be in 1..${maxPeersPerRoom}, got ${String(size)}`);
        }
        if (!Number.isInteger(rank) || (rank as number) < 0 || (rank as number) >= (size as number)) {
          return refuse(SIGNALING_CLOSE.protocol, `rank must be in 0..${(size as number) - 1}, got ${String(rank)}`);
        }
        let target = rooms.get(room);
        if (!target) {
          if (rooms.size >= maxRooms) return refuse(SIGNALING_CLOSE.refused, `too many rooms (limit ${maxRooms})`);
          target = { size: size as number, members: new Map() };
          rooms.set(room, target);
        }
        if (target.size !== size) return refuse(SIGNALING_CLOSE.refused, `room ${room} has size ${target.size}, join says ${String(size)}`);
        if (target.members.has(rank as number)) return refuse(SIGNALING_CLOSE.refused, `rank ${String(rank)} is already in room ${room}`);
        if (target.members.size >= Math.min(target.size, maxPeersPerRoom)) return refuse(SIGNALING_CLOSE.refused, `room ${room} is full`);

        clearTimeout(joinTimer);
        member = { socket, rank: rank as number, orderly: false };
        roomName = room;
        send(socket, { type: 'welcome', peers: [...target.members.keys()] });
        for (const other of target.members.values()) send(other.socket, { type: 'joined', rank });
        target.members.set(member.rank, member);
        return;
      }

      const room = rooms.get(roomName)!;
      switch (message.type) {
        case 'signal': {
          const to = message.to;
          if (!Number.isInteger(to) || to === member.rank) return refuse(SIGNALING_CLOSE.protocol, `signal: bad destination ${String(to)}`);
          const target = room.members.get(to as number);
          // The destination may have left a moment ago; its room already heard 'left'. Drop quietly.
          if (target) send(target.socket, { type: 'signal', from: member.rank, payload: message.payload ?? null });
          return;
        }
        case 'bye':
          member.orderly = true;
          return;
        default:
          return refuse(SIGNALING_CLOSE.protocol, `unknown message type ${describeType(message.type)}`);
      }
    });

    socket.on('close', () => {
      clearTimeout(joinTimer);
      if (!member) return;
      const room = rooms.get(roomName);
      if (!room || room.members.get(member.rank) !== member) return;
      room.members.delete(member.rank);
      for (const other of room.members.values()) send(other.socket, { type: 'left', rank: member.rank, orderly: member.orderly });
      if (room.members.size === 0) rooms.delete(roomName);
    });
  });

  const port = (wss.address() as AddressInfo).port;
  const urlHost = host === '::1' ? '[::1]' : host;
  return {
    url: `ws://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) {
          client.close(SIGNALING_CLOSE.serverClosing, 'signaling server closing');
          setTimeout(() => client.terminate(), 500).unref();
        }
        wss.close(() => resolve());
      }),
  };
}

/** Fixed-length digests, so timingSafeEqual compares in constant time whatever the secret lengths. */
export function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function send(socket: WebSocket, message: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

function describeType(type: unknown): string {
  return typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type;
}
