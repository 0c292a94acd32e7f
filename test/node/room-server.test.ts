// The room server (src/dist/room-server.ts) against plain ws clients on 127.0.0.1: joining and refusals,
// phases and generations, heartbeats, removals and regroups, signaling relay, the commit barrier, failure
// reports, finishing, limits on hostile clients, and `webgnn serve`. No WebRTC, so no network namespace.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { dirname, join as joinPath } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { attachRoomServer, startRoomServer, type RoomServer, type RoomServerOptions } from '../../src/dist/room-server.ts';
import { MAX_NAME_CHARS, ROOM_CLOSE, parseClientMessage, type RoomEvent, type RoomState } from '../../src/dist/room-protocol.ts';

const root = joinPath(dirname(fileURLToPath(import.meta.url)), '../..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = Record<string, any>;
type RoomMsg = RoomState & { type: 'room' };

const CONFIG = { dataset: 'cora', model: 'gcn', mode: 'sar', epochs: 10 };
/** How long a test waits for something it expects before failing (generous: the machine is shared). */
const WAIT_MS = 10_000;

/** A ws client that queues what the server says, pings on its own, and lets a test await a message of a type. */
class Client {
  readonly queue: Msg[] = [];
  private waiters: { type: string; test: (m: Msg) => boolean; resolve: (m: Msg) => void; reject: (e: Error) => void }[] = [];
  private pinger: ReturnType<typeof setInterval> | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  id = 0;
  room = '';
  secret = '';

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(String(data)) as Msg;
      if (m.type === 'pong' && !this.waiters.some((w) => w.type === 'pong')) return;
      this.queue.push(m);
      this.deliver();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        clearInterval(this.pinger);
        const r = reason.toString();
        for (const w of this.waiters.splice(0)) w.reject(new Error(`closed (${code} ${r}) while waiting for a ${w.type}`));
        resolve({ code, reason: r });
      }),
    );
  }

  static async open(url: string, ping = true): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const client = new Client(ws);
    if (ping) client.startPinging();
    return client;
  }

  startPinging(everyMs = 40): void {
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.send({ type: 'ping' }), everyMs);
  }

  stopPinging(): void {
    clearInterval(this.pinger);
  }

  send(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary });
  }

  /** The next message of `type` that passes `test`; earlier ones of that type that fail it are discarded. */
  next(type: string, test: (m: Msg) => boolean = () => true): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`member ${this.id}: no ${type} in time; last room state: ${JSON.stringify(this.lastState())}`)), WAIT_MS);
      this.waiters.push({
        type,
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.deliver();
    });
  }

  /** The next room state that passes `test`. */
  state(test: (s: RoomMsg) => boolean = () => true): Promise<RoomMsg> {
    return this.next('room', test as (m: Msg) => boolean) as Promise<RoomMsg>;
  }

  lastState(): Msg | undefined {
    return this.seen;
  }

  private seen: Msg | undefined;

  private deliver(): void {
    for (const w of [...this.waiters]) {
      for (let i = 0; i < this.queue.length; i++) {
        const m = this.queue[i];
        if (m.type !== w.type) continue;
        if (m.type === 'room') this.seen = m;
        this.queue.splice(i, 1);
        i--;
        if (!w.test(m)) continue;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
        break;
      }
    }
  }

  async expectClose(code: number | number[], reason?: RegExp): Promise<{ code: number; reason: string }> {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`member ${this.id}: not closed in time`)), WAIT_MS).unref());
    const c = await Promise.race([this.closed, timeout]);
    const codes = Array.isArray(code) ? code : [code];
    assert.ok(codes.includes(c.code), `close code ${c.code} (${c.reason}), expected ${codes.join(' or ')}`);
    if (reason) assert.match(c.reason, reason);
    return c;
  }

  close(): void {
    this.stopPinging();
    this.ws.close();
  }
}

const servers: RoomServer[] = [];
const clients: Client[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function server(options: RoomServerOptions = {}): Promise<RoomServer> {
  const s = await startRoomServer({ heartbeatTimeoutMs: 3000, heartbeatMs: 100, failureGatherMs: 20, joinTimeoutMs: 3000, ...options });
  servers.push(s);
  return s;
}

async function connect(s: RoomServer | string, ping = true): Promise<Client> {
  const c = await Client.open(typeof s === 'string' ? s : s.url, ping);
  clients.push(c);
  return c;
}

async function create(s: RoomServer | string, fields: Msg = {}): Promise<Client> {
  const c = await connect(s);
  c.send({ type: 'create', config: CONFIG, size: 1, ...fields });
  const welcome = await c.next('welcome');
  c.id = welcome.id;
  c.room = welcome.room;
  c.secret = welcome.secret;
  return c;
}

async function join(s: RoomServer | string, host: Client, name?: string): Promise<Client> {
  const c = await connect(s);
  c.send({ type: 'join', room: host.room, secret: host.secret, ...(name ? { name } : {}) });
  const welcome = await c.next('welcome');
  c.id = welcome.id;
  c.room = welcome.room;
  c.secret = welcome.secret;
  return c;
}

/** A room of `n` members in training (size n), and each member's first training state. */
async function trainingRoom(s: RoomServer, n: number, extra: Msg = {}): Promise<Client[]> {
  const first = await create(s, { size: n, ...extra });
  const all = [first];
  for (let i = 1; i < n; i++) all.push(await join(s, first));
  for (const c of all) await c.state((st) => st.phase === 'training');
  return all;
}

const ids = (list: { id: number }[]) => list.map((m) => m.id);
const kinds = (events: RoomEvent[]) => events.map((e) => e.kind);

/** Another room's members still signal each other and hear pongs: the server was not disturbed. */
async function stillServing(a: Client, b: Client): Promise<void> {
  const token = Math.random();
  a.send({ type: 'signal', to: b.id, generation: 1, payload: { token } });
  const got = await b.next('signal', (m) => m.payload?.token === token);
  assert.equal(got.from, a.id);
  a.send({ type: 'ping' });
  await a.next('pong');
}

describe('room server', () => {
  it('gives rooms 9-byte ids and 18-byte secrets, welcomes the creator as member 1 and broadcasts the room', async () => {
    const s = await server();
    const c = await connect(s);
    c.send({ type: 'create', config: CONFIG, size: 2, name: 'x'.repeat(100) });
    const welcome = await c.next('welcome');
    assert.match(welcome.room, /^[A-Za-z0-9_-]{12}$/);
    assert.match(welcome.secret, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(welcome.id, 1);
    assert.deepEqual(welcome.config, CONFIG);
    assert.deepEqual(welcome.limits, { heartbeatMs: 100, heartbeatTimeoutMs: 3000, maxMessageBytes: 64 * 1024 });
    const state = await c.state();
    assert.equal(state.phase, 'waiting');
    assert.equal(state.generation, 0);
    assert.deepEqual(state.members, []);
    assert.deepEqual(state.pending, [{ id: 1, name: 'x'.repeat(MAX_NAME_CHARS) }]);
    assert.equal(state.leader, 0);
    assert.deepEqual([state.size, state.minMembers, state.maxMembers], [2, 1, 2]);
    const other = await create(s);
    assert.notEqual(other.room, welcome.room);
    assert.notEqual(other.secret, welcome.secret);
  });

  it('numbers members 1, 2, 3 … in join order and never reuses an id', async () => {
    const s = await server();
    const a = await create(s, { size: 5 });
    const b = await join(s, a);
    const c = await join(s, a, 'tab');
    assert.deepEqual([a.id, b.id, c.id], [1, 2, 3]);
    b.close();
    await a.state((st) => st.pending.length === 2);
    const d = await join(s, a);
    assert.equal(d.id, 4);
    const st = await d.state();
    assert.deepEqual(st.pending, [{ id: 1, name: '' }, { id: 3, name: 'tab' }, { id: 4, name: '' }]);
  });

  it('wants a create or a join first, once, and in time', async () => {
    const s = await server({ joinTimeoutMs: 150 });
    const ping = await connect(s, false);
    ping.send({ type: 'ping' });
    await ping.expectClose(ROOM_CLOSE.protocol, /first message must be a create or a join, got "ping"/);
    const twice = await create(s);
    twice.send({ type: 'join', room: twice.room, secret: twice.secret });
    await twice.expectClose(ROOM_CLOSE.protocol, /second join/);
    const idle = await connect(s, false);
    await idle.expectClose(ROOM_CLOSE.timeout, /within 150 ms/);
  });

  it('checks every field of a create, naming it', async () => {
    const s = await server({ maxConfigBytes: 200, maxMembersPerRoom: 4 });
    const cases: [Msg, RegExp][] = [
      [{ config: 'cora', size: 1 }, /config must be an object/],
      [{ config: { ...CONFIG, pad: 'x'.repeat(300) }, size: 1 }, /config is \d+ bytes of JSON, the limit is 200/],
      [{ config: { ...CONFIG, dataset: '' }, size: 1 }, /config\.dataset/],
      [{ config: { ...CONFIG, model: 'm'.repeat(65) }, size: 1 }, /config\.model/],
      [{ config: { ...CONFIG, mode: 3 }, size: 1 }, /config\.mode/],
      [{ config: { ...CONFIG, epochs: 0 }, size: 1 }, /config\.epochs/],
      [{ config: { ...CONFIG, epochs: 2.5 }, size: 1 }, /config\.epochs/],
      [{ config: { ...CONFIG, epochs: 1_000_001 }, size: 1 }, /config\.epochs/],
      [{ config: CONFIG, size: 0 }, /size must be an integer in 1\.\.4/],
      [{ config: CONFIG, size: 5 }, /size must be an integer in 1\.\.4/],
      [{ config: CONFIG, size: 2, minMembers: 3 }, /minMembers must be an integer in 1\.\.2/],
      [{ config: CONFIG, size: 2, minMembers: 0 }, /minMembers/],
      [{ config: CONFIG, size: 3, maxMembers: 2 }, /maxMembers must be an integer in 3\.\.4/],
      [{ config: CONFIG, size: 3, maxMembers: 5 }, /maxMembers/],
      [{ config: CONFIG, size: 1, name: 7 }, /name must be a string/],
    ];
    for (const [fields, reason] of cases) {
      const c = await connect(s, false);
      c.send({ type: 'create', ...fields });
      await c.expectClose(ROOM_CLOSE.protocol, reason);
    }
    assert.equal(s.rooms().length, 0);
    const ok = await create(s, { size: 2, minMembers: 1, maxMembers: 4 });
    const st = await ok.state();
    assert.deepEqual([st.size, st.minMembers, st.maxMembers], [2, 1, 4]);
  });

  it('refuses a room past maxRooms as full', async () => {
    const s = await server({ maxRooms: 1 });
    const a = await create(s);
    const b = await connect(s, false);
    b.send({ type: 'create', config: CONFIG, size: 1 });
    await b.expectClose(ROOM_CLOSE.full, /too many rooms/);
    a.send({ type: 'ping' });
    await a.next('pong');
  });

  it('refuses joins to unknown rooms, with a wrong secret, to finished rooms and to full rooms', async () => {
    const s = await server();
    const a = await create(s, { size: 3 });
    const unknown = await connect(s, false);
    unknown.send({ type: 'join', room: 'AAAAAAAAAAAA', secret: a.secret });
    await unknown.expectClose(ROOM_CLOSE.noRoom, /no room AAAAAAAAAAAA/);
    const wrong = await connect(s, false);
    wrong.send({ type: 'join', room: a.room, secret: a.secret.slice(0, -1) + (a.secret.endsWith('A') ? 'B' : 'A') });
    await wrong.expectClose(ROOM_CLOSE.secret, /wrong secret/);
    const empty = await connect(s, false);
    empty.send({ type: 'join', room: a.room, secret: '' });
    await empty.expectClose(ROOM_CLOSE.secret);
    await join(s, a);
    await join(s, a);
    const fourth = await connect(s, false);
    fourth.send({ type: 'join', room: a.room, secret: a.secret });
    await fourth.expectClose(ROOM_CLOSE.full, new RegExp(`room ${a.room} is full \\(3 of 3\\)`));

    const solo = await create(s);
    await solo.state((st) => st.phase === 'training');
    solo.send({ type: 'finish', generation: 1, epoch: 10 });
    await solo.state((st) => st.phase === 'finished');
    const late = await connect(s, false);
    late.send({ type: 'join', room: solo.room, secret: solo.secret });
    await late.expectClose(ROOM_CLOSE.ended, /finished/);
  });

  it('starts training when size members are in: generation 1, members sorted, event started', async () => {
    const s = await server();
    const a = await create(s, { size: 3 });
    const b = await join(s, a);
    const mid = await b.state();
    assert.equal(mid.phase, 'waiting');
    assert.deepEqual(ids(mid.pending), [1, 2]);
    const c = await join(s, a);
    for (const m of [a, b, c]) {
      const st = await m.state((x) => x.phase === 'training');
      assert.equal(st.generation, 1);
      assert.deepEqual(ids(st.members), [1, 2, 3]);
      assert.deepEqual(st.pending, []);
      assert.equal(st.leader, 1);
      const started = st.events.find((e) => e.kind === 'started')!;
      assert.equal(started.generation, 1);
      assert.equal(started.committedEpoch, 0);
      assert.ok(st.events.every((e) => Number.isInteger(e.at) && e.at >= 0));
    }
    assert.deepEqual(s.rooms().find((r) => r.id === a.room), { id: a.room, phase: 'training', generation: 1, members: 3, pending: 0 });
  });

  it('holds a joiner of a training room pending and admits it at the next commit barrier', async () => {
    const s = await server();
    const [a, b] = await trainingRoom(s, 2, { maxMembers: 3 });
    const c = await join(s, a);
    for (const m of [a, b, c]) {
      const st = await m.state((x) => x.pending.length === 1);
      assert.equal(st.phase, 'training');
      assert.equal(st.generation, 1);
      assert.deepEqual(ids(st.pending), [3]);
      assert.equal(st.events.at(-1)!.kind, 'joined');
      assert.equal(st.events.at(-1)!.id, 3);
    }
    // A stale commit changes nothing.
    a.send({ type: 'commit', generation: 0, epoch: 1 });
    a.send({ type: 'commit', generation: 1, epoch: 1 });
    b.send({ type: 'commit', generation: 1, epoch: 1 });
    for (const m of [a, b, c]) {
      const st = await m.state((x) => x.generation === 2);
      assert.deepEqual(ids(st.members), [1, 2, 3]);
      assert.deepEqual(st.pending, []);
      assert.equal(st.committedEpoch, 1);
      const admitted = st.events.at(-1)!;
      assert.deepEqual([admitted.kind, admitted.id, admitted.generation, admitted.committedEpoch, admitted.epochsLost], ['admitted', 3, 2, 1, 0]);
    }
    assert.equal(a.queue.filter((m) => m.type === 'proceed').length, 0, 'an admission replaces the proceed');
  });

  it('answers a barrier every member agrees on with proceed, and waits while they disagree', async () => {
    const s = await server();
    const [a, b] = await trainingRoom(s, 2);
    a.send({ type: 'commit', generation: 1, epoch: 1 });
    b.send({ type: 'commit', generation: 1, epoch: 2 });
    // Disagreement: nothing yet. b commits again, now agreeing.
    b.send({ type: 'commit', generation: 1, epoch: 1 });
    for (const m of [a, b]) assert.deepEqual(await m.next('proceed'), { type: 'proceed', generation: 1, epoch: 1 });
    a.send({ type: 'commit', generation: 1, epoch: 2 });
    b.send({ type: 'commit', generation: 1, epoch: 2 });
    for (const m of [a, b]) assert.equal((await m.next('proceed')).epoch, 2);
    a.send({ type: 'commit', generation: 1, epoch: -1 });
    await a.expectClose(ROOM_CLOSE.protocol, /commit: epoch must be a non-negative integer/);
  });

  it('resumes a paused room as soon as enough have joined', async () => {
    const s = await server();
    const [a, b] = await trainingRoom(s, 2, { minMembers: 2, maxMembers: 3 });
    b.close();
    const paused = await a.state((x) => x.phase === 'paused');
    assert.equal(paused.generation, 2);
    assert.deepEqual(ids(paused.members), [1]);
    assert.deepEqual(kinds(paused.events).slice(-2), ['left', 'paused']);
    const c = await join(s, a);
    const resumed = await c.state((x) => x.phase === 'training');
    assert.equal(resumed.generation, 3);
    assert.deepEqual(ids(resumed.members), [1, 3]);
    const e = resumed.events.at(-1)!;
    assert.deepEqual([e.kind, e.generation], ['resumed', 3]);
  });

  it('broadcasts to members and pending alike; the leader is the lowest id', async () => {
    const s = await server();
    const [a, b] = await trainingRoom(s, 2, { maxMembers: 4 });
    const c = await join(s, a);
    const d = await join(s, a);
    for (const m of [a, b, c, d]) {
      const st = await m.state((x) => x.pending.length === 2);
      assert.equal(st.leader, 1);
    }
    a.close();
    for (const m of [b, c, d]) {
      const st = await m.state((x) => x.generation === 2);
      assert.deepEqual(ids(st.members), [2, 3, 4]);
      assert.equal(st.leader, 2);
    }
  });

  it('answers pings and drops a member silent for heartbeatTimeoutMs', async () => {
    const s = await server({ heartbeatTimeoutMs: 300, heartbeatMs: 50 });
    const [a, b, c] = await trainingRoom(s, 3);
    a.send({ type: 'ping' });
    assert.deepEqual(await a.next('pong'), { type: 'pong' });
    c.stopPinging();
    await c.expectClose(ROOM_CLOSE.silent, /silent/);
    for (const m of [a, b]) {
      const st = await m.state((x) => x.generation === 2);
      assert.deepEqual(ids(st.members), [1, 2]);
      const e = st.events.at(-1)!;
      assert.deepEqual([e.kind, e.id, e.generation, e.epochsLost], ['silent', 3, 2, 1]);
    }
  });

  it('any message counts as a heartbeat', async () => {
    const s = await server({ heartbeatTimeoutMs: 300, heartbeatMs: 50 });
    const [a, b] = await trainingRoom(s, 2);
    b.stopPinging();
    // b keeps committing stale generations instead of pinging: alive.
    const keep = setInterval(() => b.send({ type: 'commit', generation: 0, epoch: 0 }), 40);
    try {
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(b.ws.readyState, WebSocket.OPEN);
      assert.deepEqual(s.rooms().find((r) => r.id === a.room)?.members, 2);
    } finally {
      clearInterval(keep);
    }
  });

  it('removes pending members quietly, regroups when a generation member leaves, and says "left the room" after a bye', async () => {
    const s = await server();
    const [a, b, c] = await trainingRoom(s, 3, { maxMembers: 4 });
    const d = await join(s, a);
    await a.state((x) => x.pending.length === 1);
    d.close();
    const afterPending = await a.state((x) => x.pending.length === 0);
    assert.equal(afterPending.generation, 1, 'a pending member leaving starts no generation');
    assert.equal(afterPending.events.at(-1)!.kind, 'left');
    assert.equal(afterPending.events.at(-1)!.generation, 0);

    a.send({ type: 'commit', generation: 1, epoch: 1 });
    b.send({ type: 'commit', generation: 1, epoch: 1 });
    c.send({ type: 'commit', generation: 1, epoch: 1 });
    await a.next('proceed');
    c.send({ type: 'bye' });
    c.close();
    const st = await a.state((x) => x.generation === 2);
    assert.deepEqual(ids(st.members), [1, 2]);
    assert.equal(st.phase, 'training');
    const e = st.events.at(-1)!;
    assert.deepEqual([e.kind, e.id, e.generation, e.committedEpoch, e.epochsLost, e.reason], ['left', 3, 2, 1, 1, 'left the room']);

    b.close();
    const solo = await a.state((x) => x.generation === 3);
    assert.match(solo.events.at(-1)!.reason!, /connection closed/);
    assert.deepEqual(ids(solo.members), [1]);
  });

  it('pauses below minMembers, with epochsLost 0 for a member lost while paused', async () => {
    const s = await server();
    const [a, b, c] = await trainingRoom(s, 3, { minMembers: 3 });
    c.close();
    const paused = await a.state((x) => x.phase === 'paused');
    assert.deepEqual(ids(paused.members), [1, 2]);
    assert.deepEqual(paused.pending, []);
    const p = paused.events.at(-1)!;
    assert.deepEqual([p.kind, p.generation], ['paused', 2]);
    b.close();
    const again = await a.state((x) => x.generation === 3);
    assert.equal(again.phase, 'paused');
    const left = again.events.find((e) => e.kind === 'left' && e.id === 2)!;
    assert.equal(left.epochsLost, 0);
  });

  it('forgets an empty room after emptyRoomTtlMs, unless someone joins meanwhile', async () => {
    const s = await server({ emptyRoomTtlMs: 150 });
    const a = await create(s, { size: 2 });
    const keeper = await create(s, { size: 2 });
    const b = await join(s, keeper);
    await b.state((x) => x.phase === 'training');
    a.close();
    keeper.close();
    await b.state((x) => x.members.length === 1);
    // keeper's room still has b; a's room is empty and goes.
    const deadline = Date.now() + WAIT_MS;
    while (s.rooms().some((r) => r.id === a.room) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!s.rooms().some((r) => r.id === a.room), 'the empty room is forgotten');
    assert.ok(s.rooms().some((r) => r.id === keeper.room));
    const late = await connect(s, false);
    late.send({ type: 'join', room: a.room, secret: a.secret });
    await late.expectClose(ROOM_CLOSE.noRoom);

    const c = await create(s, { size: 2 });
    c.close();
    while (s.rooms().find((r) => r.id === c.room)?.pending !== 0) await new Promise((r) => setTimeout(r, 10));
    const rescuer = await join(s, c);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(s.rooms().some((r) => r.id === c.room), 'a join cancels the forgetting');
    assert.equal(rescuer.id, 2);
  });

  it('relays signals to members and pending, drops those to nobody, and refuses bad destinations', async () => {
    const s = await server();
    const [a, b] = await trainingRoom(s, 2, { maxMembers: 3 });
    const c = await join(s, a);
    a.send({ type: 'signal', to: 2, generation: 1, payload: { sdp: 'x' } });
    assert.deepEqual(await b.next('signal'), { type: 'signal', from: 1, generation: 1, payload: { sdp: 'x' } });
    b.send({ type: 'signal', to: 3, generation: 7, payload: [1, 2] });
    assert.deepEqual(await c.next('signal'), { type: 'signal', from: 2, generation: 7, payload: [1, 2] });
    a.send({ type: 'signal', to: 99, generation: 1, payload: null });
    a.send({ type: 'ping' });
    await a.next('pong');
    a.send({ type: 'signal', to: 1, generation: 1, payload: null });
    await a.expectClose(ROOM_CLOSE.protocol, /own/);
    b.send({ type: 'signal', to: 3, generation: -1, payload: null });
    await b.expectClose(ROOM_CLOSE.protocol, /signal: generation/);
    const d = await create(s);
    d.send({ type: 'signal', to: 'x', generation: 0 });
    await d.expectClose(ROOM_CLOSE.protocol, /signal: to/);
  });

  it('drops a culprit the leader reports', async () => {
    const s = await server();
    const [a, b, c] = await trainingRoom(s, 3);
    a.send({ type: 'failed', generation: 1, epoch: 1, culprit: 3, reason: 'bad checksum' });
    await c.expectClose(ROOM_CLOSE.dropped, /^dropped: bad checksum \(reported by member 1\)$/);
    for (const m of [a, b]) {
      const st = await m.state((x) => x.generation === 2);
      assert.deepEqual(ids(st.members), [1, 2]);
      const e = st.events.at(-1)!;
      assert.deepEqual([e.kind, e.id, e.generation, e.epochsLost], ['dropped', 3, 2, 1]);
    }
  });

  it('drops a culprit at least half of the other members report, and not one a single member of four reports', async () => {
    // Long enough to gather both accusations of the leader below.
    const s = await server({ failureGatherMs: 200 });
    const [a, b, c, d] = await trainingRoom(s, 4);
    // Only member 4 accuses member 2: 1 of the 3 others, not the leader.
    d.send({ type: 'failed', generation: 1, epoch: 1, culprit: 2, reason: 'timeout' });
    const st = await a.state((x) => x.generation === 2);
    assert.deepEqual(ids(st.members), [1, 2, 3, 4]);
    const e = st.events.at(-1)!;
    assert.deepEqual([e.kind, e.id, e.generation, e.reason], ['failed', 4, 2, 'timeout']);
    // Members 3 and 4 accuse the leader: 2 of the 3 others.
    c.send({ type: 'failed', generation: 2, epoch: 1, culprit: 1, reason: 'garbage' });
    d.send({ type: 'failed', generation: 2, epoch: 1, culprit: 1, reason: 'garbage too' });
    await a.expectClose(ROOM_CLOSE.dropped, /^dropped: garbage( too)? \(reported by member [34]\)$/);
    const after = await b.state((x) => x.generation === 3);
    assert.deepEqual(ids(after.members), [2, 3, 4]);
    assert.equal(after.leader, 2);
    // A report of another generation is ignored.
    b.send({ type: 'failed', generation: 1, epoch: 1, culprit: 3, reason: 'old news' });
    b.send({ type: 'commit', generation: 3, epoch: 1 });
    c.send({ type: 'commit', generation: 3, epoch: 1 });
    d.send({ type: 'commit', generation: 3, epoch: 1 });
    assert.equal((await b.next('proceed')).generation, 3);
  });

  it('retries a failure nobody is blamed for, and pauses after 20 regroups without progress', async () => {
    const s = await server({ failureGatherMs: 5 });
    const [a, b] = await trainingRoom(s, 2);
    a.send({ type: 'failed', generation: 1, epoch: 1, reason: 'link never opened' });
    b.send({ type: 'failed', generation: 1, epoch: 1, reason: 'link never opened either' });
    const st = await b.state((x) => x.generation === 2);
    assert.equal(st.phase, 'training');
    assert.deepEqual(ids(st.members), [1, 2]);
    assert.equal(st.events.filter((e) => e.kind === 'failed').length, 1, 'one event per failed generation');
    assert.equal(st.events.at(-1)!.reason, 'link never opened');
    // A completed commit resets the count.
    a.send({ type: 'commit', generation: 2, epoch: 1 });
    b.send({ type: 'commit', generation: 2, epoch: 1 });
    await a.next('proceed');
    let g = 2;
    for (let i = 1; i < 20; i++) {
      a.send({ type: 'failed', generation: g, epoch: 2, reason: `try ${i}` });
      const next = await a.state((x) => x.generation === g + 1);
      assert.equal(next.phase, 'training', `regroup ${i} trains again`);
      g++;
    }
    a.send({ type: 'failed', generation: g, epoch: 2, reason: 'try 20' });
    const paused = await a.state((x) => x.generation === g + 1);
    assert.equal(paused.phase, 'paused');
    assert.equal(paused.events.at(-1)!.reason, '20 regroups without progress');
  });

  it('lets only the leader finish; members stay connected, later joins are refused', async () => {
    const s = await server();
    const [a, b] = await trainingRoom(s, 2);
    b.send({ type: 'finish', generation: 0, epoch: 10 });
    b.send({ type: 'ping' });
    await b.next('pong');
    a.send({ type: 'finish', generation: 1, epoch: 10 });
    for (const m of [a, b]) {
      const st = await m.state((x) => x.phase === 'finished');
      assert.equal(st.events.at(-1)!.kind, 'finished');
    }
    const late = await connect(s, false);
    late.send({ type: 'join', room: a.room, secret: a.secret });
    await late.expectClose(ROOM_CLOSE.ended);
    b.send({ type: 'ping' });
    await b.next('pong');
    b.close();
    await a.state((x) => x.members.length === 1 && x.phase === 'finished');
    const [c, d] = await trainingRoom(s, 2);
    d.send({ type: 'finish', generation: 1, epoch: 10 });
    await d.expectClose(ROOM_CLOSE.protocol, /only the leader \(member 1\)/);
    await c.state((x) => x.generation === 2);
  });

  it('closes a misbehaving client and nobody else: oversized, binary, malformed, unknown, bad fields, too many messages', async () => {
    const s = await server({ maxMessageBytes: 1024, maxMessagesPerSecond: 50 });
    const [p, q] = await trainingRoom(s, 2);
    // [what, how, close code, close reason, close code when it is a socket's first message (if other)]
    const bad: [string, (c: Client) => void, number | number[], RegExp | undefined, number?][] = [
      ['oversized', (c) => c.sendRaw(JSON.stringify({ type: 'ping', pad: 'x'.repeat(2000) })), [1009, ROOM_CLOSE.protocol], undefined],
      ['binary', (c) => c.sendRaw(Buffer.from('{"type":"ping"}'), true), ROOM_CLOSE.protocol, /binary/],
      ['malformed', (c) => c.sendRaw('{"type":'), ROOM_CLOSE.protocol, /not JSON/],
      ['not an object', (c) => c.sendRaw('[1,2]'), ROOM_CLOSE.protocol, /not a JSON object/],
      ['unknown type', (c) => c.send({ type: 'steal' }), ROOM_CLOSE.protocol, /unknown message type "steal"/],
      ['no type', (c) => c.send({ hello: 1 }), ROOM_CLOSE.protocol, /unknown message type/],
      ['bad commit', (c) => c.send({ type: 'commit', generation: 'one', epoch: 1 }), ROOM_CLOSE.protocol, /commit: generation/],
      ['bad failed', (c) => c.send({ type: 'failed', generation: 1, epoch: 1 }), ROOM_CLOSE.protocol, /failed: reason/],
      ['bad culprit', (c) => c.send({ type: 'failed', generation: 1, epoch: 1, culprit: 'p', reason: '' }), ROOM_CLOSE.protocol, /failed: culprit/],
      [
        'flood',
        (c) => {
          for (let i = 0; i < 200; i++) c.send({ type: 'ping' });
        },
        ROOM_CLOSE.rate,
        /more than 50 messages per second/,
        ROOM_CLOSE.protocol,
      ],
    ];
    for (const [what, misbehave, code, reason, firstCode] of bad) {
      // Once before joining, once as a member of a room of its own with a well-behaved second member.
      const stranger = await connect(s, false);
      misbehave(stranger);
      await stranger.expectClose(firstCode ?? code, firstCode ? undefined : reason);
      const [host, guest] = await trainingRoom(s, 2);
      host.stopPinging();
      misbehave(host);
      await host.expectClose(code, reason);
      const st = await guest.state((x) => x.generation === 2);
      assert.deepEqual(ids(st.members), [2], `${what}: the room goes on without the bad member`);
      assert.equal(st.events.at(-1)!.kind, 'dropped', what);
      guest.close();
      await stillServing(p, q);
    }
    const room = s.rooms().find((r) => r.id === p.room)!;
    assert.deepEqual([room.generation, room.members], [1, 2]);
  });

  it('keeps at most maxEvents events, the oldest dropped first; every event that starts a generation carries it', async () => {
    const s = await server({ maxEvents: 5 });
    const a = await create(s, { maxMembers: 2 });
    await a.state((x) => x.phase === 'training');
    let st: RoomMsg | undefined;
    for (let i = 0; i < 4; i++) {
      const extra = await trainingRoomMember(s, a);
      extra.close();
      st = await a.state((x) => x.members.length === 1 && x.pending.length === 0);
    }
    assert.ok(st);
    assert.equal(st.events.length, 5);
    assert.ok(!st.events.some((e) => e.kind === 'started'), 'the first events are gone');
    for (const e of st.events) {
      if (e.kind === 'joined') assert.equal(e.generation, 0);
      if (e.kind === 'left') assert.ok(e.generation > 0);
    }
    for (let i = 1; i < st.events.length; i++) assert.ok(st.events[i].at >= st.events[i - 1].at);
  });

  it('close() closes every socket with 1001 and stops listening', async () => {
    const s = await startRoomServer({ heartbeatMs: 100, heartbeatTimeoutMs: 3000 });
    const a = await create(s, { size: 2 });
    const idle = await connect(s, false);
    await s.close();
    await a.expectClose(ROOM_CLOSE.serverClosing);
    await idle.expectClose(ROOM_CLOSE.serverClosing);
    await assert.rejects(Client.open(s.url, false));
    await s.close();
  });

  it('serves only its path, on its own port or on a shared HTTP server', async () => {
    const s = await server({ path: '/rooms' });
    assert.match(s.url, /^ws:\/\/127\.0\.0\.1:\d+\/rooms$/);
    await assert.rejects(Client.open(s.url.replace('/rooms', '/other'), false));
    await create(s.url);

    const http = createServer((_, res) => res.end('page'));
    const other = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/hmr') other.handleUpgrade(req, socket, head, (ws) => ws.send('hello from hmr'));
    });
    const rooms = attachRoomServer(http, { path: '/rooms', heartbeatMs: 100, heartbeatTimeoutMs: 3000 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const member = await create(`${base}/rooms?x=1`);
      assert.equal(member.id, 1);
      const hmr = new WebSocket(`${base}/hmr`);
      const greeting = await new Promise<string>((resolve, reject) => {
        hmr.once('message', (d) => resolve(String(d)));
        hmr.once('error', reject);
      });
      assert.equal(greeting, 'hello from hmr');
      hmr.close();
      await rooms.close();
      await member.expectClose(ROOM_CLOSE.serverClosing);
    } finally {
      await rooms.close();
      other.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("Vite's dev and preview servers (vite.config.ts) serve rooms at /rooms and leave the HMR socket alone", { timeout: 60_000 }, async () => {
    const { createServer: createVite, preview } = await import('vite');
    const configFile = joinPath(root, 'vite.config.ts');
    const site = mkdtempSync(joinPath(tmpdir(), 'webgnn-site-'));
    writeFileSync(joinPath(site, 'index.html'), '<!doctype html>');
    const quiet = { logLevel: 'silent' as const, configFile };
    const dev = await createVite({ ...quiet, server: { port: 0 }, optimizeDeps: { noDiscovery: true, entries: [] } });
    try {
      await dev.listen();
      const port = (dev.httpServer!.address() as AddressInfo).port;
      const member = await create(`ws://127.0.0.1:${port}/rooms`);
      assert.equal((await member.state()).phase, 'training');
      const hmr = new WebSocket(`ws://127.0.0.1:${port}/`, 'vite-hmr');
      const hello = await new Promise<string>((resolve, reject) => {
        hmr.once('message', (d) => resolve(String(d)));
        hmr.once('error', reject);
      });
      assert.equal(JSON.parse(hello).type, 'connected');
      hmr.close();
    } finally {
      await dev.close();
    }
    const pv = await preview({ ...quiet, preview: { port: 0 }, build: { outDir: site } });
    try {
      const port = (pv.httpServer.address() as AddressInfo).port;
      const member = await create(`ws://127.0.0.1:${port}/rooms`);
      assert.equal((await member.state()).phase, 'training');
    } finally {
      await pv.close();
      rmSync(site, { recursive: true, force: true });
    }
  });

  it('parseClientMessage names the bad field and cuts long names and reasons', () => {
    const bad = (text: string) => {
      const r = parseClientMessage(text);
      assert.equal(r.ok, false);
      return (r as { error: string }).error;
    };
    assert.match(bad('nope'), /not JSON/);
    assert.match(bad('null'), /not a JSON object/);
    assert.match(bad('{"type":"join","room":"","secret":"s"}'), /join: room/);
    assert.match(bad('{"type":"join","room":"abcdefgh","secret":5}'), /join: secret/);
    const failed = parseClientMessage(JSON.stringify({ type: 'failed', generation: 1, epoch: 2, reason: 'r'.repeat(900) }));
    assert.ok(failed.ok && failed.message.type === 'failed' && failed.message.reason.length === 500);
    const joined = parseClientMessage(JSON.stringify({ type: 'join', room: 'abcdefgh', secret: 's', name: 'n'.repeat(99), extra: true }));
    assert.deepEqual(joined, { ok: true, message: { type: 'join', room: 'abcdefgh', secret: 's', name: 'n'.repeat(MAX_NAME_CHARS) } });
  });

  it("'webgnn serve --port 0' prints its URL, serves rooms and exits 0 on SIGTERM", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [joinPath(root, 'scripts/webgnn.mjs'), 'serve', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /^rooms on (ws:\/\/127\.0\.0\.1:(\d+)\/rooms)$/m.exec(stdout);
          if (m) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
      });
      assert.doesNotMatch(url, /:0\//);
      const member = await create(url);
      const st = await member.state((x) => x.phase === 'training');
      assert.equal(st.generation, 1);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      await member.expectClose(ROOM_CLOSE.serverClosing);
      assert.match(stderr, /room .* created/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** One more member of `host`'s room, admitted to a generation (room of maxMembers 2: the barrier is not needed while waiting). */
async function trainingRoomMember(s: RoomServer, host: Client): Promise<Client> {
  const c = await join(s, host);
  // host's generation admits the joiner at its next barrier: commit once as the only member.
  const st = await host.state((x) => x.pending.some((m) => m.id === c.id));
  host.send({ type: 'commit', generation: st.generation, epoch: st.committedEpoch + 1 });
  await c.state((x) => x.members.some((m) => m.id === c.id));
  return c;
}
