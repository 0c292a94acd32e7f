// Node-only room server: the membership authority of training rooms (room-protocol.ts has the protocol and
// what each message means). It admits members with a room's secret, numbers them 1, 2, 3 … in join order,
// hears their heartbeats, groups them into generations, runs the commit barrier at every epoch's end,
// relays WebRTC signaling between them, and broadcasts each room's state whenever it changes. It never
// sees a tensor. `webgnn serve` runs one by itself; the demo's Vite server shares its HTTP server (/rooms).
//
// Every client is untrusted input: a bad frame (binary, oversized, not JSON, unknown type, bad fields, too
// many per second) closes that one socket with a ROOM_CLOSE code and a reason; the rest of the server, its
// other rooms and the same room's other members go on. A member closed that way leaves its room as
// 'dropped'.
//
// Rules worth knowing (room-protocol.ts says the rest):
// - A generation starts when the waiting room reaches `size`, at every regroup (a generation member left,
//   went silent, was dropped, or the generation failed), at an admission (a commit barrier with members
//   pending) and when a paused room resumes. A regroup takes in whoever is pending too.
// - epochsLost of a member's removal (and of 'failed') is 1 when the room was training (the epoch in
//   progress after committedEpoch is redone) and 0 when it was paused, waiting or finished.
// - The commit barrier completes when the latest commit of every member of the current generation is the
//   same epoch; then committedEpoch is that epoch. Members that disagree simply wait (each commits again).
// - After a failed generation, a culprit is dropped if the leader accused it, or if at least half of the
//   other members did; the leader's accusations are applied first, and a member dropped so is no longer
//   counted as an accuser. If nobody is dropped, the same members (and the pending) regroup and retry.
// - MAX_STALLED_REGROUPS (20) regroups in a row without a completed commit pause the room ("20 regroups
//   without progress") instead of retrying once more; a join resumes it.
// - A finish of an older generation is stale and ignored (as commits are); one of the current generation
//   from anyone but its leader is a protocol error.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { digest } from './signaling-server.ts';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  MAX_NAME_CHARS,
  ROOM_CLOSE,
  ROOM_DEFAULTS,
  parseClientMessage,
  type ClientMessage,
  type RoomConfig,
  type RoomEvent,
  type RoomLimits,
  type RoomMemberInfo,
  type RoomPhase,
  type RoomState,
  type ServerMessage,
} from './room-protocol.ts';

export interface RoomServerOptions {
  /** 127.0.0.1 by default. Any address is allowed (the CLI warns when it is not loopback). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Only WebSocket upgrades to this path are accepted (e.g. '/rooms'); any path when not given. */
  path?: string;
  /** A member silent this long is dropped (5 s). */
  heartbeatTimeoutMs?: number;
  /** How often members ping, announced in welcome.limits (1 s, or a fifth of heartbeatTimeoutMs if that is less). */
  heartbeatMs?: number;
  maxMessageBytes?: number;
  maxConfigBytes?: number;
  maxMessagesPerSecond?: number;
  maxRooms?: number;
  maxMembersPerRoom?: number;
  joinTimeoutMs?: number;
  failureGatherMs?: number;
  maxEvents?: number;
  emptyRoomTtlMs?: number;
  /** One line per room event (created, joined, left, …); nothing by default. */
  log?: (line: string) => void;
}

export interface RoomServer {
  /** ws://host:port + path */
  readonly url: string;
  readonly port: number;
  /** Closes every socket (1001), stops listening and clears every timer. */
  close(): Promise<void>;
  /** The rooms as they stand (for tests and observability). */
  rooms(): RoomSummary[];
}

export interface RoomSummary {
  id: string;
  phase: RoomPhase;
  generation: number;
  members: number;
  pending: number;
}

/** Regroups in a row without a completed commit before the room pauses instead. */
export const MAX_STALLED_REGROUPS = 20;

type Resolved = Required<Omit<RoomServerOptions, 'host' | 'port' | 'path' | 'log'>> & { log: (line: string) => void };

interface Connection {
  socket: WebSocket;
  member: Member | null;
  /** Closed by the server: nothing more is read from it. */
  refused: boolean;
  tokens: number;
  refilledAt: number;
  joinTimer: ReturnType<typeof setTimeout> | undefined;
  /** What ws reported before the socket closed (an oversized frame, an invalid frame). */
  error: string | null;
}

interface Member {
  id: number;
  name: string;
  conn: Connection;
  room: Room;
  lastSeen: number;
  /** Latest epoch committed in the current generation. */
  committed: number | undefined;
  /** Said bye before closing. */
  orderly: boolean;
  removed: boolean;
}

interface FailureReport {
  reporter: number;
  culprit?: number;
  reason: string;
}

interface Room {
  id: string;
  secretDigest: Buffer;
  config: RoomConfig;
  size: number;
  minMembers: number;
  maxMembers: number;
  createdAt: number;
  phase: RoomPhase;
  generation: number;
  members: Member[];
  pending: Member[];
  nextId: number;
  committedEpoch: number;
  events: RoomEvent[];
  /** Reports of the current generation's failure, by reporter (the latest of each), in arrival order. */
  failures: Map<number, FailureReport>;
  failureTimer: ReturnType<typeof setTimeout> | undefined;
  emptyTimer: ReturnType<typeof setTimeout> | undefined;
  /** Regroups since the last completed commit. */
  stalls: number;
}

interface Removal {
  member: Member;
  kind: 'left' | 'silent' | 'dropped';
  reason: string;
}

type EventDraft = Omit<RoomEvent, 'at' | 'generation'>;

function resolveOptions(options: RoomServerOptions): Resolved {
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? ROOM_DEFAULTS.heartbeatTimeoutMs;
  const resolved: Resolved = {
    heartbeatTimeoutMs,
    heartbeatMs: options.heartbeatMs ?? Math.max(1, Math.min(ROOM_DEFAULTS.heartbeatMs, Math.floor(heartbeatTimeoutMs / 5))),
    maxMessageBytes: options.maxMessageBytes ?? ROOM_DEFAULTS.maxMessageBytes,
    maxConfigBytes: options.maxConfigBytes ?? ROOM_DEFAULTS.maxConfigBytes,
    maxMessagesPerSecond: options.maxMessagesPerSecond ?? ROOM_DEFAULTS.maxMessagesPerSecond,
    maxRooms: options.maxRooms ?? ROOM_DEFAULTS.maxRooms,
    maxMembersPerRoom: options.maxMembersPerRoom ?? ROOM_DEFAULTS.maxMembersPerRoom,
    joinTimeoutMs: options.joinTimeoutMs ?? ROOM_DEFAULTS.joinTimeoutMs,
    failureGatherMs: options.failureGatherMs ?? ROOM_DEFAULTS.failureGatherMs,
    maxEvents: options.maxEvents ?? ROOM_DEFAULTS.maxEvents,
    emptyRoomTtlMs: options.emptyRoomTtlMs ?? ROOM_DEFAULTS.emptyRoomTtlMs,
    log: options.log ?? (() => {}),
  };
  for (const [name, v] of Object.entries(resolved)) {
    if (name === 'log') continue;
    const min = name === 'failureGatherMs' || name === 'emptyRoomTtlMs' ? 0 : 1;
    if (!Number.isInteger(v) || (v as number) < min) throw new Error(`room server: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  if (resolved.heartbeatMs >= resolved.heartbeatTimeoutMs) {
    throw new Error(`room server: heartbeatMs (${resolved.heartbeatMs}) must be less than heartbeatTimeoutMs (${resolved.heartbeatTimeoutMs})`);
  }
  if (options.path !== undefined && !options.path.startsWith('/')) throw new Error(`room server: path must start with '/', got ${JSON.stringify(options.path)}`);
  return resolved;
}

/** Rooms, members and their timers; fed sockets by a WebSocketServer (own port or a shared HTTP server). */
class RoomService {
  private readonly rooms = new Map<string, Room>();
  private readonly connections = new Set<Connection>();
  private readonly sweepTimer: ReturnType<typeof setInterval>;
  private closing = false;

  constructor(private readonly o: Resolved) {
    const every = Math.max(10, Math.floor(Math.min(o.heartbeatMs, o.heartbeatTimeoutMs) / 2));
    this.sweepTimer = setInterval(() => this.guard(() => this.sweep()), every);
    this.sweepTimer.unref();
  }

  summary(): RoomSummary[] {
    return [...this.rooms.values()].map((r) => ({ id: r.id, phase: r.phase, generation: r.generation, members: r.members.length, pending: r.pending.length }));
  }

  accept(socket: WebSocket): void {
    if (this.closing) {
      socket.close(ROOM_CLOSE.serverClosing, 'room server closing');
      return;
    }
    const conn: Connection = {
      socket,
      member: null,
      refused: false,
      tokens: 2 * this.o.maxMessagesPerSecond,
      refilledAt: Date.now(),
      joinTimer: undefined,
      error: null,
    };
    this.connections.add(conn);
    conn.joinTimer = setTimeout(() => this.guard(() => this.refuse(conn, ROOM_CLOSE.timeout, `no create or join within ${this.o.joinTimeoutMs} ms`)), this.o.joinTimeoutMs);
    conn.joinTimer.unref();
    // ws closes the socket itself (1009, 1002) on an oversized or invalid frame and reports it here first.
    socket.on('error', (error) => {
      conn.error = error.message;
    });
    socket.on('message', (data, isBinary) => this.guard(() => this.onMessage(conn, data, isBinary), conn));
    socket.on('close', (code) =>
      this.guard(() => {
        clearTimeout(conn.joinTimer);
        this.connections.delete(conn);
        const member = conn.member;
        if (!member || member.removed) return;
        if (member.orderly) return this.remove(member.room, [{ member, kind: 'left', reason: 'left the room' }]);
        if (conn.error) return this.remove(member.room, [{ member, kind: 'dropped', reason: `protocol error: ${conn.error}` }]);
        this.remove(member.room, [{ member, kind: 'left', reason: `connection closed (${code})` }]);
      }),
    );
  }

  /** Closes every socket and clears every timer; resolves once every socket has closed (at most ~0.5 s). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    for (const room of this.rooms.values()) {
      clearTimeout(room.failureTimer);
      clearTimeout(room.emptyTimer);
    }
    this.rooms.clear();
    const closed: Promise<void>[] = [];
    for (const conn of this.connections) {
      clearTimeout(conn.joinTimer);
      conn.refused = true;
      if (conn.member) conn.member.removed = true;
      const { socket } = conn;
      if (socket.readyState === socket.CLOSED) continue;
      closed.push(
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          const kill = setTimeout(() => {
            socket.terminate();
            resolve();
          }, 500);
          kill.unref();
          socket.once('close', () => clearTimeout(kill));
        }),
      );
      socket.close(ROOM_CLOSE.serverClosing, 'room server closing');
    }
    this.connections.clear();
    await Promise.all(closed);
  }

  /** Runs `fn`; an unexpected exception is logged and ends only the connection concerned, never the process. */
  private guard(fn: () => void, conn?: Connection): void {
    try {
      fn();
    } catch (error) {
      this.o.log(`internal error: ${(error as Error)?.stack ?? String(error)}`);
      if (conn && !conn.refused) {
        try {
          this.refuse(conn, 1011, 'internal error');
        } catch {
          conn.socket.terminate();
        }
      }
    }
  }

  // ---- sockets ----

  private closeSocket(conn: Connection, code: number, reason: string): void {
    conn.refused = true;
    clearTimeout(conn.joinTimer);
    // Close reasons are limited to 123 bytes by the WebSocket protocol.
    conn.socket.close(code, truncateBytes(reason, 120));
    // A client that ignores the close handshake is cut off.
    setTimeout(() => conn.socket.terminate(), 1000).unref();
  }

  /** Closes a misbehaving or refused client; a member among them leaves its room as dropped. */
  private refuse(conn: Connection, code: number, reason: string): void {
    if (conn.refused) return;
    this.closeSocket(conn, code, reason);
    const member = conn.member;
    if (member && !member.removed) this.remove(member.room, [{ member, kind: 'dropped', reason }]);
  }

  private send(member: Member, message: ServerMessage): void {
    const { socket } = member.conn;
    if (!member.conn.refused && socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.refused) return;
    const now = Date.now();
    // Token bucket: a burst of 2× the rate, refilled at the rate.
    const rate = this.o.maxMessagesPerSecond;
    conn.tokens = Math.min(2 * rate, conn.tokens + ((now - conn.refilledAt) * rate) / 1000);
    conn.refilledAt = now;
    if (conn.tokens < 1) return this.refuse(conn, ROOM_CLOSE.rate, `more than ${rate} messages per second`);
    conn.tokens -= 1;
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
    if (bytes > this.o.maxMessageBytes) return this.refuse(conn, ROOM_CLOSE.protocol, `message of ${bytes} bytes exceeds the limit of ${this.o.maxMessageBytes}`);
    if (isBinary) return this.refuse(conn, ROOM_CLOSE.protocol, 'binary frames are not part of the rooms protocol');
    if (conn.member) conn.member.lastSeen = now;
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseClientMessage(text, { maxConfigBytes: this.o.maxConfigBytes, maxMembersPerRoom: this.o.maxMembersPerRoom });
    if (!parsed.ok) return this.refuse(conn, ROOM_CLOSE.protocol, parsed.error);
    const message = parsed.message;
    if (!conn.member) {
      if (message.type === 'create') return this.create(conn, message);
      if (message.type === 'join') return this.join(conn, message);
      return this.refuse(conn, ROOM_CLOSE.protocol, `first message must be a create or a join, got "${message.type}"`);
    }
    const member = conn.member;
    if (member.removed) return;
    switch (message.type) {
      case 'create':
      case 'join':
        return this.refuse(conn, ROOM_CLOSE.protocol, `a second ${message.type}: this socket is member ${member.id} of room ${member.room.id} already`);
      case 'ping':
        return this.send(member, { type: 'pong' });
      case 'bye':
        member.orderly = true;
        return;
      case 'signal':
        return this.signal(member, message);
      case 'commit':
        return this.commit(member, message);
      case 'failed':
        return this.failed(member, message);
      case 'finish':
        return this.finish(member, message);
    }
  }

  // ---- joining ----

  private create(conn: Connection, m: Extract<ClientMessage, { type: 'create' }>): void {
    if (this.rooms.size >= this.o.maxRooms) return this.refuse(conn, ROOM_CLOSE.full, `too many rooms on this server (limit ${this.o.maxRooms})`);
    let id = randomBytes(9).toString('base64url');
    while (this.rooms.has(id)) id = randomBytes(9).toString('base64url');
    const secret = randomBytes(18).toString('base64url');
    const room: Room = {
      id,
      secretDigest: digest(secret),
      config: m.config,
      size: m.size,
      minMembers: m.minMembers ?? 1,
      maxMembers: m.maxMembers ?? m.size,
      createdAt: Date.now(),
      phase: 'waiting',
      generation: 0,
      members: [],
      pending: [],
      nextId: 1,
      committedEpoch: 0,
      events: [],
      failures: new Map(),
      failureTimer: undefined,
      emptyTimer: undefined,
      stalls: 0,
    };
    this.rooms.set(id, room);
    this.o.log(`room ${id} created (size ${room.size}, ${room.minMembers}..${room.maxMembers} members; ${room.config.mode} ${room.config.model} on ${room.config.dataset})`);
    this.admit(conn, room, m.name, secret);
  }

  private join(conn: Connection, m: Extract<ClientMessage, { type: 'join' }>): void {
    const room = this.rooms.get(m.room);
    if (!room) return this.refuse(conn, ROOM_CLOSE.noRoom, `no room ${m.room.slice(0, 64)} on this server`);
    if (!timingSafeEqual(digest(m.secret), room.secretDigest)) return this.refuse(conn, ROOM_CLOSE.secret, `wrong secret for room ${room.id}`);
    if (room.phase === 'finished') return this.refuse(conn, ROOM_CLOSE.ended, `room ${room.id} has finished training`);
    const connected = room.members.length + room.pending.length;
    if (connected >= room.maxMembers) return this.refuse(conn, ROOM_CLOSE.full, `room ${room.id} is full (${connected} of ${room.maxMembers})`);
    this.admit(conn, room, m.name, m.secret);
  }

  /** A new member of `room`; `secret` is the room's (new for a create, the joiner's checked one for a join). */
  private admit(conn: Connection, room: Room, name: string | undefined, secret: string): void {
    clearTimeout(conn.joinTimer);
    clearTimeout(room.emptyTimer);
    room.emptyTimer = undefined;
    const member: Member = {
      id: room.nextId++,
      name: (name ?? '').slice(0, MAX_NAME_CHARS),
      conn,
      room,
      lastSeen: Date.now(),
      committed: undefined,
      orderly: false,
      removed: false,
    };
    conn.member = member;
    room.pending.push(member);
    const limits: RoomLimits = { heartbeatMs: this.o.heartbeatMs, heartbeatTimeoutMs: this.o.heartbeatTimeoutMs, maxMessageBytes: this.o.maxMessageBytes };
    this.send(member, { type: 'welcome', room: room.id, secret, id: member.id, config: room.config, limits });
    this.event(room, { kind: 'joined', id: member.id, committedEpoch: room.committedEpoch, epochsLost: 0 }, 0);
    this.o.log(`room ${room.id}: member ${member.id}${member.name ? ` (${member.name})` : ''} joined`);
    if (room.phase === 'waiting' && room.pending.length >= room.size) {
      const g = this.startGeneration(room, room.pending, 'training');
      this.event(room, { kind: 'started', committedEpoch: room.committedEpoch, epochsLost: 0 }, g);
    } else if (room.phase === 'paused' && room.members.length + room.pending.length >= room.minMembers) {
      room.stalls = 0;
      const g = this.startGeneration(room, [...room.members, ...room.pending], 'training');
      this.event(room, { kind: 'resumed', committedEpoch: room.committedEpoch, epochsLost: 0 }, g);
    }
    this.broadcast(room);
  }

  // ---- in a room ----

  private signal(member: Member, m: Extract<ClientMessage, { type: 'signal' }>): void {
    if (m.to === member.id) return this.refuse(member.conn, ROOM_CLOSE.protocol, `signal: to must be another member's id, got your own (${m.to})`);
    const room = member.room;
    const target = room.members.find((x) => x.id === m.to) ?? room.pending.find((x) => x.id === m.to);
    // The destination may have left a moment ago (the room's state says so): dropped quietly.
    if (target) this.send(target, { type: 'signal', from: member.id, generation: m.generation, payload: m.payload });
  }

  private commit(member: Member, m: Extract<ClientMessage, { type: 'commit' }>): void {
    const room = member.room;
    // A commit of an older generation (or outside training) is stale, not an error.
    if (m.generation !== room.generation || room.phase !== 'training' || !room.members.includes(member)) return;
    member.committed = m.epoch;
    const epoch = room.members[0].committed;
    if (epoch === undefined || !room.members.every((x) => x.committed === epoch)) return;
    room.committedEpoch = epoch;
    room.stalls = 0;
    for (const x of room.members) x.committed = undefined;
    if (room.pending.length > 0) {
      const joiners = room.pending.map((x) => x.id);
      const g = this.startGeneration(room, [...room.members, ...room.pending], 'training');
      for (const id of joiners) this.event(room, { kind: 'admitted', id, committedEpoch: epoch, epochsLost: 0 }, g);
      this.o.log(`room ${room.id}: generation ${g} admits ${joiners.join(', ')} after epoch ${epoch}`);
      this.broadcast(room);
      return;
    }
    for (const x of room.members) this.send(x, { type: 'proceed', generation: room.generation, epoch });
  }

  private failed(member: Member, m: Extract<ClientMessage, { type: 'failed' }>): void {
    const room = member.room;
    if (m.generation !== room.generation || room.phase !== 'training' || !room.members.includes(member)) return;
    room.failures.delete(member.id);
    room.failures.set(member.id, { reporter: member.id, culprit: m.culprit, reason: m.reason });
    if (room.failureTimer) return;
    const generation = room.generation;
    room.failureTimer = setTimeout(() => this.guard(() => this.settleFailure(room, generation)), this.o.failureGatherMs);
    room.failureTimer.unref();
  }

  /** The gathered reports of a failed generation: drop whom they convict, else retry with the same members. */
  private settleFailure(room: Room, generation: number): void {
    room.failureTimer = undefined;
    if (this.rooms.get(room.id) !== room || room.generation !== generation || room.phase !== 'training') return;
    const reports = [...room.failures.values()];
    const first = reports[0];
    if (!first) return;
    const inGeneration = new Map(room.members.map((x) => [x.id, x]));
    const leader = room.members[0].id;
    const accusations = reports.filter((r) => r.culprit !== undefined && r.culprit !== r.reporter && inGeneration.has(r.culprit) && inGeneration.has(r.reporter));
    const dropped = new Map<number, FailureReport>();
    for (const r of accusations) if (r.reporter === leader && r.culprit !== leader) dropped.set(r.culprit!, r);
    const others = room.members.length - 1;
    for (const culprit of new Set(accusations.map((r) => r.culprit!))) {
      if (dropped.has(culprit)) continue;
      const by = accusations.filter((r) => r.culprit === culprit && !dropped.has(r.reporter));
      if (by.length > 0 && 2 * by.length >= others) dropped.set(culprit, by[0]);
    }
    if (dropped.size > 0) {
      const removals: Removal[] = [];
      for (const [culprit, r] of dropped) {
        const member = inGeneration.get(culprit)!;
        const reason = `dropped: ${r.reason} (reported by member ${r.reporter})`;
        this.closeSocket(member.conn, ROOM_CLOSE.dropped, reason);
        removals.push({ member, kind: 'dropped', reason });
      }
      this.remove(room, removals);
      return;
    }
    this.o.log(`room ${room.id}: generation ${generation} failed (${first.reason}); regrouping`);
    this.regroup(room, [{ kind: 'failed', id: first.reporter, committedEpoch: room.committedEpoch, epochsLost: 1, reason: first.reason }]);
    this.broadcast(room);
  }

  private finish(member: Member, m: Extract<ClientMessage, { type: 'finish' }>): void {
    const room = member.room;
    if (m.generation !== room.generation) return;
    const leader = room.members[0]?.id ?? 0;
    if (member.id !== leader) return this.refuse(member.conn, ROOM_CLOSE.protocol, `finish: only the leader (member ${leader}) of generation ${room.generation} may finish the room`);
    if (room.phase !== 'training') return;
    room.phase = 'finished';
    this.clearFailure(room);
    this.event(room, { kind: 'finished', id: member.id, committedEpoch: room.committedEpoch, epochsLost: 0 }, 0);
    this.o.log(`room ${room.id}: finished after ${room.committedEpoch} epochs`);
    this.broadcast(room);
  }

  private sweep(): void {
    const now = Date.now();
    for (const room of [...this.rooms.values()]) {
      const silent = [...room.members, ...room.pending].filter((x) => !x.removed && now - x.lastSeen > this.o.heartbeatTimeoutMs);
      if (!silent.length) continue;
      const reason = `no message for ${this.o.heartbeatTimeoutMs} ms`;
      for (const member of silent) this.closeSocket(member.conn, ROOM_CLOSE.silent, `silent: ${reason}`);
      this.remove(room, silent.map((member) => ({ member, kind: 'silent', reason })));
    }
  }

  // ---- membership ----

  /** Members gone from `room` (left, silent, dropped): pending ones just go; generation members make it regroup. */
  private remove(room: Room, removals: Removal[]): void {
    const live = removals.filter((r) => !r.member.removed);
    if (!live.length) return;
    for (const r of live) {
      r.member.removed = true;
      this.o.log(`room ${room.id}: member ${r.member.id} ${r.kind} (${r.reason})`);
    }
    const gone = new Set(live.map((r) => r.member));
    const fromGeneration = live.filter((r) => room.members.includes(r.member));
    room.pending = room.pending.filter((x) => !gone.has(x));
    room.members = room.members.filter((x) => !gone.has(x));
    const drafts: EventDraft[] = live.map((r) => ({
      kind: r.kind,
      id: r.member.id,
      committedEpoch: room.committedEpoch,
      epochsLost: fromGeneration.includes(r) && room.phase === 'training' ? 1 : 0,
      reason: r.reason,
    }));
    if (fromGeneration.length > 0 && (room.phase === 'training' || room.phase === 'paused')) {
      this.regroup(room, drafts);
    } else {
      for (const d of drafts) this.event(room, d, 0);
    }
    if (room.members.length + room.pending.length === 0) {
      this.clearFailure(room);
      clearTimeout(room.emptyTimer);
      room.emptyTimer = setTimeout(() => {
        if (this.rooms.get(room.id) === room && room.members.length + room.pending.length === 0) {
          this.rooms.delete(room.id);
          this.o.log(`room ${room.id}: forgotten (empty for ${this.o.emptyRoomTtlMs} ms)`);
        }
      }, this.o.emptyRoomTtlMs);
      room.emptyTimer.unref();
    }
    this.broadcast(room);
  }

  /** A new generation of everyone connected: training if there are enough of them, else paused. `drafts` are its cause. */
  private regroup(room: Room, drafts: EventDraft[]): void {
    room.stalls++;
    const everyone = [...room.members, ...room.pending];
    const stalled = room.stalls >= MAX_STALLED_REGROUPS;
    const enough = everyone.length >= room.minMembers;
    const g = this.startGeneration(room, everyone, enough && !stalled ? 'training' : 'paused');
    for (const d of drafts) this.event(room, d, g);
    if (room.phase === 'paused') {
      const reason = stalled ? `${MAX_STALLED_REGROUPS} regroups without progress` : `${everyone.length} of at least ${room.minMembers} members`;
      this.event(room, { kind: 'paused', committedEpoch: room.committedEpoch, epochsLost: 0, reason }, g);
      this.o.log(`room ${room.id}: paused (${reason})`);
    }
  }

  /** Makes `members` (sorted by id) generation+1 with nobody pending; returns the generation. */
  private startGeneration(room: Room, members: Member[], phase: 'training' | 'paused'): number {
    room.generation++;
    room.members = [...members].sort((a, b) => a.id - b.id);
    room.pending = [];
    room.phase = phase;
    for (const x of room.members) x.committed = undefined;
    this.clearFailure(room);
    return room.generation;
  }

  private clearFailure(room: Room): void {
    clearTimeout(room.failureTimer);
    room.failureTimer = undefined;
    room.failures.clear();
  }

  private event(room: Room, draft: EventDraft, generation: number): void {
    const event: RoomEvent = { at: Date.now() - room.createdAt, generation, ...draft };
    if (event.reason === undefined) delete event.reason;
    if (event.id === undefined) delete event.id;
    room.events.push(event);
    if (room.events.length > this.o.maxEvents) room.events.splice(0, room.events.length - this.o.maxEvents);
  }

  private broadcast(room: Room): void {
    if (this.rooms.get(room.id) !== room) return;
    const info = (x: Member): RoomMemberInfo => ({ id: x.id, name: x.name });
    const state: RoomState = {
      phase: room.phase,
      generation: room.generation,
      members: room.members.map(info),
      pending: room.pending.map(info),
      leader: room.members[0]?.id ?? 0,
      committedEpoch: room.committedEpoch,
      size: room.size,
      minMembers: room.minMembers,
      maxMembers: room.maxMembers,
      events: room.events,
    };
    const text = JSON.stringify({ type: 'room', ...state });
    for (const x of [...room.members, ...room.pending]) {
      const { socket } = x.conn;
      if (!x.conn.refused && socket.readyState === socket.OPEN) socket.send(text);
    }
  }
}

/** Starts a room server listening on its own port. */
export async function startRoomServer(options: RoomServerOptions = {}): Promise<RoomServer> {
  const resolved = resolveOptions(options);
  const host = options.host ?? '127.0.0.1';
  const wss = new WebSocketServer({ host, port: options.port ?? 0, path: options.path, maxPayload: resolved.maxMessageBytes, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  // After startup, a server-level error (rare: e.g. accept failures) must not take the process down.
  wss.on('error', (error) => resolved.log(`server error: ${error.message}`));
  const service = new RoomService(resolved);
  wss.on('connection', (socket) => service.accept(socket));
  const port = (wss.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | null = null;
  return {
    url: `ws://${urlHost}:${port}${options.path ?? ''}`,
    port,
    rooms: () => service.summary(),
    close: () =>
      (closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => wss.close(() => resolve()));
        await service.close();
        await stopped;
      })()),
  };
}

/**
 * Serves rooms on an existing HTTP server (Vite's dev and preview servers): WebSocket upgrades to
 * `options.path` are the rooms'; every other upgrade (Vite's HMR socket) is left to its other listeners.
 */
export function attachRoomServer(httpServer: HttpServer, options: RoomServerOptions & { path: string }): { close(): Promise<void> } {
  const resolved = resolveOptions(options);
  const wss = new WebSocketServer({ noServer: true, maxPayload: resolved.maxMessageBytes, perMessageDeflate: false });
  wss.on('error', (error) => resolved.log(`server error: ${error.message}`));
  const service = new RoomService(resolved);
  let closing = false;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return;
    }
    if (pathname !== options.path) return;
    if (closing) {
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    wss.handleUpgrade(req, socket, head, (ws) => service.accept(ws));
  };
  httpServer.on('upgrade', onUpgrade);
  let closed: Promise<void> | null = null;
  return {
    close: () =>
      (closed ??= (async () => {
        closing = true;
        httpServer.off('upgrade', onUpgrade);
        await service.close();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })()),
  };
}


/** At most `max` bytes of UTF-8, cut at a character boundary. */
function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}
