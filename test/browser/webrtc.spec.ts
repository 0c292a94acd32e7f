// The same WebRTC transport in Chromium tabs and in Node, linked to each other: two tabs (ranks 0 and 1, the
// browser's own RTCPeerConnection) and one Node peer in this test process (rank 2, @roamhq/wrtc) run one
// script (webrtc-page/peer-script.ts) through a signaling server started here. Runs only inside the private
// network namespace that scripts/run-tests.mjs creates (playwright.webrtc.config.ts says how by hand).

import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import { startSignalingServer, type SignalingServer } from '../../src/dist/signaling-server.ts';
import { checksum } from '../../src/dist/wire.ts';
import { insidePrivateNetns } from '../node/fixtures/netns.ts';
import { NodeRTCPeerConnection, NodeWebSocket, SECRET } from '../node/fixtures/webrtc-common.ts';
import {
  allReduceInput,
  ALL_REDUCE_LENGTH,
  bytesOf,
  elementsOf,
  MESSAGE_CASES,
  messageSeed,
  pattern,
  runPeer,
  THROUGHPUT_ELEMENTS,
  throughputSeed,
  type PeerReport,
  type PeerRun,
  type PeerStage,
  type Transfer,
} from './webrtc-page/peer-script.ts';

const PAGE = '/test/browser/webrtc-page/index.html';
const SIZE = 3;
const NODE_RANK = 2;
/** Per direction of the throughput test, in messages of THROUGHPUT_ELEMENTS f32 (4 MiB). */
const THROUGHPUT_MIB = 32;

// Also matched by playwright.config.ts's run, outside any namespace: no peer connection may open there.
// WebRTC traffic must stay inside a private network namespace (ARCHITECTURE.md): run outside one, the
// specs refuse rather than open peer connections on the machine's interfaces.
test.beforeEach(() => {
  if (!insidePrivateNetns()) {
    throw new Error('WebRTC specs run only in a private network namespace: playwright.webrtc.config.ts under unshare -n (npm test does this)');
  }
});

let server: SignalingServer;
let roomCounter = 0;

test.beforeAll(async () => {
  server = await startSignalingServer({ secret: SECRET });
});

test.afterAll(async () => {
  await server?.close();
});

function runOf(rank: number, room: string, script: PeerRun['script'], waitFor?: number, leftGraceMs?: number): PeerRun {
  return { signalingUrl: server.url, room, secret: SECRET, rank, size: SIZE, script, waitFor, leftGraceMs };
}

/** A tab with the WebRTC page loaded; its errors are kept to explain a failure. */
async function openTab(context: BrowserContext, problems: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  await page.goto(PAGE);
  await page.waitForFunction(() => window.webrtcStage === 'loaded', null, { timeout: 15_000 }).catch(() => {
    throw new Error(`the WebRTC page did not load: ${problems.join('; ') || 'window.webrtcStage never became loaded'}`);
  });
  return page;
}

/** `promise`, or a clear error after `ms` rather than the test's timeout. */
function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The Node peer: the same runPeer, given wrtc's and ws's classes instead of a browser's globals. */
function runNodePeer(run: PeerRun, onStage?: (stage: PeerStage) => void): Promise<PeerReport> {
  return runPeer(run, { RTCPeerConnection: NodeRTCPeerConnection, WebSocket: NodeWebSocket, onStage });
}

test('Chromium in the namespace offers plain IPv4 host candidates on the veth, no mDNS names', async ({ context }) => {
  const problems: string[] = [];
  const tab = await openTab(context, problems);
  const candidates = await tab.evaluate(() => window.webrtcCandidates());
  console.log(`Chromium candidates:\n  ${candidates.join('\n  ')}`);
  expect(candidates.length, 'Chromium gathered no ICE candidate (is the default route missing?)').toBeGreaterThan(0);
  for (const line of candidates) {
    // candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> …
    const [, , , , address, , , type] = line.split(' ');
    expect(type, line).toBe('host');
    expect(address, `${line}: mDNS name; --disable-features=WebRtcHideLocalIpsWithMdns did not take effect`).not.toMatch(/\.local$/);
    expect(address, line).toMatch(/^10\.213\.0\.\d+$/);
  }
});

test('two tabs and a Node peer exchange tensors and all-reduce to bitwise-identical sums', async ({ context }) => {
  const problems: string[] = [];
  const tabs = await Promise.all([openTab(context, problems), openTab(context, problems)]);
  const room = `exchange-${roomCounter++}`;
  const started = Date.now();
  const reports = await Promise.all([
    ...tabs.map((tab, rank) => tab.evaluate((run) => window.webrtcPeer(run), runOf(rank, room, 'exchange'))),
    runNodePeer(runOf(NODE_RANK, room, 'exchange')),
  ]).catch((error: Error) => {
    throw new Error(`${error.message}\n${problems.join('\n')}`);
  });
  const wallMs = Date.now() - started;

  // Every message from every other rank, shape and contents exact (checked element by element in the
  // receiver, and by checksum here against contents made in this process).
  const perDirection = MESSAGE_CASES.reduce((n, c) => n + bytesOf(c), 0);
  for (const report of reports) {
    const { rank } = report;
    expect(report.received.length, `rank ${rank}: messages received`).toBe((SIZE - 1) * MESSAGE_CASES.length);
    for (const m of report.received) {
      const c = MESSAGE_CASES[m.index];
      const where = `rank ${rank}: case ${m.index} (${c.kind} [${c.shape}]) from ${m.from}`;
      expect(m.kind, where).toBe(c.kind);
      expect(m.shape, where).toEqual(c.shape);
      expect(m.firstDifference, `${where}: first differing element`).toBe(-1);
      expect(m.checksum, where).toBe(checksum(pattern(c.kind, elementsOf(c.shape), messageSeed(m.from, rank, m.index))));
    }
    // The transport's counters: payload bytes of the scripted messages plus the collectives' (the ring's
    // f32 chunks to and from its neighbours; barriers send empty messages).
    for (let peer = 0; peer < SIZE; peer++) {
      if (peer === rank) continue;
      expect(report.bytesSent[peer], `rank ${rank}: bytes sent to ${peer}`).toBeGreaterThanOrEqual(perDirection);
      expect(report.bytesReceived[peer], `rank ${rank}: bytes received from ${peer}`).toBe(reports[peer].bytesSent[rank]);
    }
  }

  // All-reduce: every rank holds the same bits (ring all-reduce forms each sum along one chain and copies it),
  // tabs and Node alike. Against a float64 sum of the same float32 inputs, each element may differ by the
  // rounding of SIZE−1 float32 additions: |sum − ref| ≤ (SIZE−1)·2⁻²⁴·Σ|x| (recursive summation bound,
  // Higham γ_{n−1} with u = 2⁻²⁴; the factor 1.001 covers γ's denominator and the reference's own float64
  // rounding, both below 1e−6 relative).
  const sums = reports.map((r) => Buffer.from(r.allReduce ?? '', 'base64'));
  for (const r of reports) expect(sums[r.rank].length, `rank ${r.rank}: all-reduce bytes`).toBe(ALL_REDUCE_LENGTH * 4);
  expect(sums[1].equals(sums[0]), 'tab 1 and tab 0 hold bitwise-identical all-reduce results').toBe(true);
  expect(sums[NODE_RANK].equals(sums[0]), 'the Node peer and tab 0 hold bitwise-identical all-reduce results').toBe(true);
  const result = new Float32Array(sums[0].buffer, sums[0].byteOffset, ALL_REDUCE_LENGTH);
  const inputs = Array.from({ length: SIZE }, (_, rank) => allReduceInput(rank));
  let worst = 0;
  let rounded = 0;
  for (let i = 0; i < ALL_REDUCE_LENGTH; i++) {
    let ref = 0;
    let magnitude = 0;
    for (const x of inputs) {
      ref += x[i];
      magnitude += Math.abs(x[i]);
    }
    const error = Math.abs(result[i] - ref);
    const bound = (SIZE - 1) * 2 ** -24 * magnitude * 1.001;
    if (error > bound) throw new Error(`all-reduce element ${i}: ${result[i]} vs float64 ${ref} (error ${error} > bound ${bound})`);
    if (error > 0) rounded++;
    worst = Math.max(worst, magnitude > 0 ? error / magnitude : 0);
  }

  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  for (const r of reports) {
    console.log(
      `rank ${r.rank} (${r.rank === NODE_RANK ? 'Node, wrtc' : 'Chromium tab'}): connect ${fmt(r.ms.connect)}, exchange ${fmt(r.ms.exchange)}, ` +
        `all-reduce ${fmt(r.ms.allReduce)}, close ${fmt(r.ms.close)}; sent ${(r.bytesSent.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  console.log(
    `${SIZE} ranks, ${MESSAGE_CASES.length} messages per direction (${(perDirection / 2 ** 20).toFixed(2)} MiB), ${wallMs} ms in all; ` +
      `all-reduce of ${ALL_REDUCE_LENGTH} floats: ${rounded} elements rounded, worst error ${worst.toExponential(2)}·Σ|x|`,
  );
  expect(problems, 'errors in the tabs').toEqual([]);
});

// A measurement, not a benchmark with a bar to clear: the figures are printed, and what is asserted is that
// every byte arrived intact and was acknowledged. One direction at a time (the ranks pass a barrier between
// them), so tab → tab and tab → Node do not share the CPU; each is timed by its sender, from its first send to
// the receiver's ack of the last message (the receiver checks the contents only after acking).
test(`data-channel throughput: ${THROUGHPUT_MIB} MiB tab → tab, then tab → Node, in 4 MiB messages`, async ({ context }) => {
  const problems: string[] = [];
  const tabs = await Promise.all([openTab(context, problems), openTab(context, problems)]);
  const room = `throughput-${roomCounter++}`;
  const messageBytes = THROUGHPUT_ELEMENTS * 4;
  const messages = (THROUGHPUT_MIB * 2 ** 20) / messageBytes;
  const bytes = messages * messageBytes;
  const transfers: Transfer[] = [
    { from: 0, to: 1, messages },
    { from: 0, to: NODE_RANK, messages },
  ];
  const runOfRank = (rank: number): PeerRun => ({ ...runOf(rank, room, 'throughput'), transfers });
  const reports = await deadline(
    Promise.all([...tabs.map((tab, rank) => tab.evaluate((run) => window.webrtcPeer(run), runOfRank(rank))), runNodePeer(runOfRank(NODE_RANK))]),
    45_000,
    'the throughput transfers',
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${problems.join('\n')}`);
  });

  const name = (rank: number) => (rank === NODE_RANK ? 'Node' : 'tab');
  for (const { from, to } of transfers) {
    const where = `rank ${from} (${name(from)}) → rank ${to} (${name(to)})`;
    const timing = reports[from].transfers.find((t) => t.to === to);
    expect(timing, `${where}: the sender's timing`).toBeDefined();
    expect(timing!.bytes, `${where}: payload bytes sent`).toBe(bytes);
    expect(timing!.ackedMessages, `${where}: messages the receiver acknowledged`).toBe(messages);
    expect(timing!.ackedBytes, `${where}: bytes the receiver acknowledged`).toBe(bytes);
    // Every message, in order, element by element in the receiver and by checksum here.
    const got = reports[to].received.filter((m) => m.from === from);
    expect(got.map((m) => m.index), `${where}: messages received`).toEqual(Array.from({ length: messages }, (_, i) => i));
    for (const m of got) {
      const at = `${where}: message ${m.index}`;
      expect(m.kind, at).toBe('f32');
      expect(m.shape, at).toEqual([THROUGHPUT_ELEMENTS]);
      expect(m.firstDifference, `${at}: first differing element`).toBe(-1);
      expect(m.checksum, at).toBe(checksum(pattern('f32', THROUGHPUT_ELEMENTS, throughputSeed(from, to, m.index))));
    }
    // The transport's counters agree: nothing else went that way but empty barrier messages.
    expect(reports[from].bytesSent[to], `${where}: bytes sent`).toBe(bytes);
    expect(reports[to].bytesReceived[from], `${where}: bytes received`).toBe(bytes);
    expect(timing!.ms, `${where}: ms`).toBeGreaterThan(0);
    const mib = bytes / 2 ** 20;
    console.log(`throughput ${name(from)} → ${name(to)}: ${mib} MiB in ${timing!.ms.toFixed(0)} ms = ${(mib / (timing!.ms / 1000)).toFixed(1)} MiB/s`);
  }
  for (const r of reports) {
    const expected = transfers.filter((t) => t.to === r.rank).reduce((n, t) => n + t.messages, 0);
    expect(r.received.length, `rank ${r.rank}: messages received in all`).toBe(expected);
  }
  expect(problems, 'errors in the tabs').toEqual([]);
});

// How the survivors learn of it: first the signaling server's notice that the tab's socket closed (the
// transport waits leftGraceMs, 250 ms, for a goodbye); with that grace made longer than the test, only the
// transport's own detection is left. Chromium gives the peers no data-channel close when a tab closes: they
// see ICE go 'disconnected' some 5 s later, and the ping that follows goes unanswered (about 6 s in all).
for (const [how, leftGraceMs] of [
  ['signaling notice', undefined],
  ['ICE and ping alone', 120_000],
] as const) {
  test(`a tab closed mid-session fails the other peers’ pending recv, naming its rank, within 10 s (${how})`, async ({ context }) => {
    const problems: string[] = [];
    const tabs = await Promise.all([openTab(context, problems), openTab(context, problems)]);
    const room = `close-${roomCounter++}`;
    const CLOSED = 1;
    let nodeWaiting!: () => void;
    const nodeIsWaiting = new Promise<void>((resolve) => (nodeWaiting = resolve));

    // Ranks 0 and 2 wait for a message from rank 1; rank 1 (the tab about to close) waits on rank 0.
    const survivor = tabs[0].evaluate((run) => window.webrtcPeer(run), runOf(0, room, 'wait', CLOSED, leftGraceMs));
    const closing = tabs[CLOSED].evaluate((run) => window.webrtcPeer(run), runOf(CLOSED, room, 'wait', 0, leftGraceMs)).catch((e: Error) => e);
    const node = runNodePeer(runOf(NODE_RANK, room, 'wait', CLOSED, leftGraceMs), (stage) => stage === 'waiting' && nodeWaiting());
    // Surfaces a failure to connect at once rather than as a wait for 'waiting'.
    const early = Promise.race([survivor, node]).then(
      () => {
        throw new Error('a peer finished before rank 1 was closed');
      },
      (error: Error) => {
        throw new Error(`${error.message}\n${problems.join('\n')}`);
      },
    );
    await Promise.race([
      early,
      Promise.all([nodeIsWaiting, ...tabs.map((tab) => tab.waitForFunction(() => window.webrtcStage === 'waiting', null, { timeout: 30_000 }))]),
    ]);
    early.catch(() => {});

    const closedAt = Date.now();
    await tabs[CLOSED].close();
    const [tabReport, nodeReport] = await deadline(Promise.all([survivor, node]), 15_000, 'ranks 0 and 2 to end after rank 1 was closed');
    const outcome = await closing;
    expect(outcome, 'the closed tab’s own evaluate ends with the page').toBeInstanceOf(Error);

    for (const report of [tabReport, nodeReport]) {
      const who = `rank ${report.rank} (${report.rank === NODE_RANK ? 'Node' : 'tab'})`;
      const error = report.waitError;
      expect(error, `${who}: the pending recv must reject`).not.toBeNull();
      console.log(`${who}: rejected ${error!.at - closedAt} ms after page.close(): ${error!.name}: ${error!.message}; closed in ${report.ms.close.toFixed(0)} ms`);
      expect(error!.name, `${who}: ${error!.message}`).toBe('PeerError');
      expect(error!.peer, `${who}: ${error!.message}`).toBe(CLOSED);
      expect(error!.at - closedAt, `${who}: ms from page.close() to the rejection`).toBeLessThan(10_000);
    }
  });
}
