// Transports under abuse: invalid messages (corrupt, truncated, oversized, unknown channel, unexpected
// shape or kind, malformed thread messages) fail the receiving rank with a PeerError naming the sender and
// tell the other ranks; a terminated thread fails every other rank quickly; an orderly close does not
// fail a peer that still has messages to read. Over LocalTransport (injectFrom) and ThreadTransport
// between real worker_threads (raw port.postMessage).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { measureThroughput } from '../../bench/transport-bench.ts';
import { LocalTransport } from '../../src/dist/local-transport.ts';
import { threadLinks, ThreadTransport } from '../../src/dist/thread-transport.ts';
import { makeTag, PeerError, TAG_CHANNEL, type Expectation } from '../../src/dist/transport.ts';
import { headerFor, type WireArray, type WireHeader } from '../../src/dist/wire.ts';
import { ok, ThreadPool, type Reply } from './fixtures/thread-pool.ts';

const TAG = makeTag(TAG_CHANNEL.test, 1);
const tick = () => new Promise((r) => setImmediate(r));

/** An invalid message as rank 0 would send it to rank 1: the header beside the payload, plus what rank 1 expects. */
interface BadCase {
  name: string;
  header: () => WireHeader;
  data: () => WireArray;
  expect?: Expectation;
  /** What the receiver's error reason must say. */
  reason: RegExp;
}

const eight = () => Float32Array.from({ length: 8 }, (_, i) => i + 0.5);
const BAD_CASES: BadCase[] = [
  {
    name: 'corrupt payload (checksum)',
    header: () => headerFor(TAG, eight()),
    data: () => {
      const d = eight();
      d[3] = -1;
      return d;
    },
    reason: /checksum mismatch/,
  },
  {
    name: 'truncated payload (byteLength above the data)',
    header: () => headerFor(TAG, eight()),
    data: () => eight().slice(0, 5),
    reason: /truncated or padded payload: 20 bytes, header says 32/,
  },
  {
    name: 'oversized header (claims 4 GiB, tiny payload)',
    header: () => ({ ...headerFor(TAG, eight()), shape: [2 ** 30], byteLength: 2 ** 32 }),
    data: eight,
    reason: /exceeds the limit of 1073741824/,
  },
  {
    name: 'unknown channel',
    header: () => headerFor(((0x55 << 24) | 1) >>> 0, eight()),
    data: eight,
    reason: /is on no known channel/,
  },
  {
    name: 'unexpected shape',
    header: () => headerFor(TAG, eight(), [2, 4]),
    data: eight,
    expect: { kind: 'f32', shape: [4, 2] },
    reason: /expected shape \[4,2\], got \[2,4\]/,
  },
  {
    name: 'unexpected kind',
    header: () => headerFor(TAG, Int32Array.of(1, 2)),
    data: () => Int32Array.of(1, 2),
    expect: { kind: 'f32' },
    reason: /expected f32, got i32/,
  },
];

/** A LocalTransport that counts payloads reaching deliver (the step after admit). */
class CountingTransport extends LocalTransport {
  delivered = 0;
  protected override deliver(peer: number, header: WireHeader, data: WireArray): void {
    this.delivered++;
    super.deliver(peer, header, data);
  }
}

function assertPeerError(error: unknown, peer: number, rank: number, reason: RegExp): void {
  assert.ok(error instanceof PeerError, `expected a PeerError, got ${error}`);
  assert.equal(error.peer, peer, error.message);
  assert.equal(error.rank, rank, error.message);
  assert.match(error.reason, reason);
}

for (const bad of BAD_CASES) {
  test(`local: ${bad.name} from rank 0 fails rank 1's recv naming rank 0, and rank 2 is told`, async () => {
    const group = LocalTransport.group(3);
    const victim = group[1].recv(0, TAG, bad.expect);
    const bystander = group[2].recv(1, TAG);
    group[1].injectFrom(0, bad.header(), bad.data());
    await assert.rejects(victim, (e) => (assertPeerError(e, 0, 1, bad.reason), true));
    await assert.rejects(bystander, (e) => (assertPeerError(e, 0, 2, /reported by peer 1/), true));
    // The failure is sticky: later receives, from anyone, fail the same way.
    await assert.rejects(group[1].recv(2, TAG), (e) => (assertPeerError(e, 0, 1, bad.reason), true));
  });
}

test('local: a header claiming ~4 GiB is refused by admit, before any payload is taken', () => {
  const t = new CountingTransport(1, 2);
  const header = { ...headerFor(TAG, eight()), shape: [2 ** 30 - 1], byteLength: 2 ** 32 - 4 };
  t.injectFrom(0, header, eight());
  assert.equal(t.delivered, 0);
  assertPeerError(t.failure, 0, 1, /message of 4294967292 bytes exceeds the limit/);
});

test('local: orderly close after the last message leaves it readable; only waiting for more fails', async () => {
  const [a, b, c] = LocalTransport.group(3);
  await a.send(1, TAG, Float32Array.of(1, 2, 3));
  await a.close();
  for (let i = 0; i < 3; i++) await tick();
  assert.equal(b.failure, null);
  assert.deepEqual((await b.recv(0, TAG, { kind: 'f32', shape: [3] })).data, Float32Array.of(1, 2, 3));
  assert.equal(b.failure, null);
  assert.equal(c.failure, null);
  await assert.rejects(b.recv(0, TAG), (e) => (assertPeerError(e, 0, 1, /closed its link/), true));
});

test('threads (in one thread): send transfers a whole buffer, copies a view of a bigger one', async () => {
  const [l0, l1] = threadLinks(2);
  const a = new ThreadTransport(l0);
  const b = new ThreadTransport(l1);
  const whole = Float32Array.of(1, 2, 3, 4);
  await a.send(1, TAG, whole);
  assert.equal(whole.buffer.byteLength, 0, 'the sent buffer is detached (transferred)');
  const big = Float32Array.from({ length: 16 }, (_, i) => i);
  await a.send(1, TAG, big.subarray(4, 8));
  assert.equal(big.buffer.byteLength, 64, 'the bigger buffer stays with the sender');
  assert.deepEqual((await b.recv(0, TAG)).data, Float32Array.of(1, 2, 3, 4));
  const view = await b.recv(0, TAG);
  assert.deepEqual(view.data, Float32Array.of(4, 5, 6, 7));
  assert.equal(view.data.buffer.byteLength, 16, 'only the view travelled');
  await a.close();
  await b.close();
});

test('throughput helper: moves every byte between two local transports', async () => {
  const [a, b] = LocalTransport.group(2);
  const { seconds, mibPerSecond } = await measureThroughput(a, b, 1 << 20, 256 << 10);
  assert.ok(seconds > 0 && mibPerSecond > 0);
  assert.equal(b.stats.bytesReceived[0], 1 << 20);
  assert.equal(b.stats.messagesReceived[0], 4);
});

// ---- worker_threads ----

let pool: ThreadPool;
before(() => {
  pool = ThreadPool.start(3);
});
after(() => pool.terminate());

/** Thread messages that are not even well-formed tensor messages. */
const MALFORMED: { name: string; message: unknown; reason: RegExp }[] = [
  { name: 'a string', message: 'hello', reason: /expected an object, got 'hello'/ },
  { name: 'no header', message: { t: 'm', data: Float32Array.of(1) }, reason: /header must be an object/ },
  { name: 'a Float64Array payload', message: { t: 'm', header: headerFor(TAG, Float32Array.of(1, 2)), data: Float64Array.of(1) }, reason: /got Float64Array/ },
  { name: 'a plain-array payload', message: { t: 'm', header: headerFor(TAG, Float32Array.of(1, 2)), data: [1, 2] }, reason: /payload must be/ },
  { name: 'an unknown message type', message: { t: 'hack' }, reason: /unknown message type 'hack'/ },
];

const threadCases = [
  ...BAD_CASES.map((b) => ({ name: b.name, message: { t: 'm', header: b.header(), data: b.data() } as unknown, expect: b.expect, reason: b.reason })),
  ...MALFORMED.map((m) => ({ ...m, expect: undefined })),
];

for (const bad of threadCases) {
  test(`threads: ${bad.name} posted raw by rank 0 fails rank 1's recv naming rank 0, and rank 2 is told`, async () => {
    await pool.relink();
    const victim = pool.call(1, 'recv', { peer: 0, tag: TAG, expect: bad.expect });
    const bystander = pool.call(2, 'recv', { peer: 1, tag: TAG });
    await pool.call(1, 'state'); // rank 1 is listening
    ok(await pool.call(0, 'raw', { peer: 1, message: bad.message }));
    const [v, s] = await Promise.all([victim, bystander]);
    assert.ok(!v.ok && !s.ok);
    assert.equal(v.error.name, 'PeerError');
    assert.deepEqual([v.error.peer, v.error.rank], [0, 1], v.error.message);
    assert.match(v.error.reason!, bad.reason);
    assert.deepEqual([s.error.name, s.error.peer, s.error.rank], ['PeerError', 0, 2], s.error.message);
    assert.match(s.error.reason!, /reported by peer 1/);
    // The thread that got the bad message is alive and answers.
    assert.equal(ok(await pool.call(1, 'state')).failure.peer, 0);
  });
}

test('threads: orderly close after the last message (receiver busy) fails nobody, even with an exit notice', async () => {
  // Rank 0's exit notice comes from a stand-in emitter so the real thread stays for later tests.
  const stand = new EventEmitter();
  await pool.relink([stand, pool.workers[1], pool.workers[2]]);
  const busy = pool.call(1, 'busy', { ms: 300 }); // rank 1 cannot read while rank 0 sends and leaves
  ok(await pool.call(0, 'send', { peer: 1, tag: TAG, data: Float32Array.of(7, 8, 9) }));
  ok(await pool.call(0, 'close'));
  stand.emit('exit', 0);
  ok(await busy);
  const got = ok(await pool.call(1, 'recv', { peer: 0, tag: TAG, expect: { kind: 'f32', shape: [3] } }));
  assert.deepEqual(got.data, Float32Array.of(7, 8, 9));
  await new Promise((r) => setTimeout(r, 600)); // past the notice's grace period
  for (const r of [1, 2]) assert.equal(ok(await pool.call(r, 'state')).failure, null, `rank ${r}`);
  const more = await pool.call(1, 'recv', { peer: 0, tag: TAG });
  assert.ok(!more.ok && more.error.peer === 0 && /closed its link/.test(more.error.reason!), JSON.stringify(more));
});

test('threads: an exit notice alone (the port never reports closing) fails the peers after the grace period', async () => {
  const stand = new EventEmitter();
  await pool.relink([pool.workers[0], pool.workers[1], stand]);
  const waiting = [0, 1].map((r) => pool.call(r, 'recv', { peer: 2, tag: TAG }));
  await Promise.all([0, 1].map((r) => pool.call(r, 'state')));
  const start = performance.now();
  stand.emit('error', new Error('out of GPU memory'));
  stand.emit('exit', 1);
  for (const [r, reply] of (await Promise.all(waiting)).entries()) {
    assert.ok(!reply.ok);
    assert.deepEqual([reply.error.name, reply.error.peer], ['PeerError', 2], reply.error.message);
    assert.match(reply.error.reason!, /its thread threw: out of GPU memory/);
    console.log(`rank ${r} failed ${(reply.at - start).toFixed(0)} ms after the notice (grace 500 ms)`);
  }
});

test('threads: a terminated thread fails every waiting peer with a PeerError naming it within 10 s', async () => {
  await pool.relink();
  // Rank 0 waits on the doomed rank 2; rank 1 waits on rank 0 and must learn too.
  const waiting: Promise<Reply>[] = [pool.call(0, 'recv', { peer: 2, tag: TAG }), pool.call(1, 'recv', { peer: 0, tag: TAG })];
  await Promise.all([0, 1].map((r) => pool.call(r, 'state')));
  const start = performance.now();
  await pool.workers[2].terminate();
  for (const [r, reply] of (await Promise.all(waiting)).entries()) {
    assert.ok(!reply.ok);
    assert.deepEqual([reply.error.name, reply.error.peer, reply.error.rank], ['PeerError', 2, r], reply.error.message);
    assert.match(reply.error.reason!, /without a goodbye|exited|terminated/);
    const ms = reply.at - start;
    assert.ok(ms < 10_000, `rank ${r}: ${ms} ms`);
    console.log(`rank ${r} learned of rank 2's death after ${ms.toFixed(1)} ms: ${reply.error.reason}`);
  }
});
