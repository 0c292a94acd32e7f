// Transport throughput: moves 64 MiB from rank 0 to rank 1 in 4 MiB messages and prints MiB/s.
// Run: node --import ./scripts/register.mjs bench/transport-bench.ts [--mib 64] [--message-mib 4]
//
//   local            LocalTransport pair in this thread (no copy; the cost is the two checksums)
//   threads (1 thr)  ThreadTransport pair in this thread (transfer through a MessageChannel)
//   threads          rank 0 in this thread, rank 1 in a worker_thread (this same file)
//
// Every message is checksummed by the sender (headerFor) and verified by the receiver. No path here
// copies the payload, so the checksums are most of the cost: in one thread they run one after the other,
// across two threads side by side (measured on a 2-core machine: ~950 MiB/s in one thread, ~1300–1500
// MiB/s across two).
// measureThroughput is the shared measure: another transport (WebRTC) is benchmarked by passing its pair.

import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { benchArgs } from './args.ts';
import { LocalTransport } from '../src/dist/local-transport.ts';
import { threadLinks, ThreadTransport, transferListFor, type ThreadLinks } from '../src/dist/thread-transport.ts';
import { makeTag, TAG_CHANNEL, type Transport } from '../src/dist/transport.ts';

const DATA_TAG = makeTag(TAG_CHANNEL.test, 0xbe00);
const ACK_TAG = makeTag(TAG_CHANNEL.test, 0xbe01);

export interface Throughput {
  seconds: number;
  mibPerSecond: number;
}

function messageSizes(totalBytes: number, messageBytes: number): number[] {
  if (!Number.isInteger(totalBytes) || totalBytes < 1) throw new RangeError(`throughput: totalBytes must be a positive integer, got ${totalBytes}`);
  if (!Number.isInteger(messageBytes) || messageBytes < 1) throw new RangeError(`throughput: messageBytes must be a positive integer, got ${messageBytes}`);
  const sizes: number[] = [];
  for (let left = totalBytes; left > 0; left -= messageBytes) sizes.push(Math.min(left, messageBytes));
  return sizes;
}

/** The payloads, made before the clock starts so only the transport is timed; filled so no page is left untouched. */
function payloads(sizes: number[]): Uint8Array<ArrayBuffer>[] {
  return sizes.map((n, i) => new Uint8Array(n).fill((i * 31 + 7) & 0xff));
}

/** Receives the stream sent by `sendStream`, checking each message's kind and size. */
async function receiveStream(t: Transport, from: number, sizes: number[]): Promise<void> {
  for (const n of sizes) await t.recv(from, DATA_TAG, { kind: 'u8', shape: [n] });
}

/**
 * Moves totalBytes from `send` to `recv` (both transports of one group, living in this thread) in
 * messages of messageBytes, and returns the time from the first send until the last message is
 * received. Sends are awaited one by one (the transport's own backpressure) while receives run beside.
 */
export async function measureThroughput(send: Transport, recv: Transport, totalBytes: number, messageBytes: number): Promise<Throughput> {
  if (send.size !== recv.size || send.rank === recv.rank) throw new RangeError('measureThroughput: send and recv must be two ranks of one group');
  const sizes = messageSizes(totalBytes, messageBytes);
  const data = payloads(sizes);
  const start = performance.now();
  const receiving = receiveStream(recv, send.rank, sizes);
  for (const d of data) await send.send(recv.rank, DATA_TAG, d);
  await receiving;
  const seconds = (performance.now() - start) / 1000;
  return { seconds, mibPerSecond: totalBytes / 2 ** 20 / seconds };
}

/**
 * Rank 0 in this thread sends to rank 1 in a fresh worker_thread; timed from the first send until rank 1
 * acknowledges the last message (one empty round trip, well under a millisecond, is included).
 */
export async function measureThreadThroughput(totalBytes: number, messageBytes: number): Promise<Throughput> {
  const sizes = messageSizes(totalBytes, messageBytes);
  const links = threadLinks(2);
  const register = pathToFileURL(fileURLToPath(new URL('../scripts/register.mjs', import.meta.url))).href;
  const worker = new Worker(new URL(import.meta.url), {
    execArgv: ['--import', register],
    workerData: { transportBench: { links: links[1], sizes } },
    transferList: transferListFor(links[1]),
  });
  const exited = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
  const t = new ThreadTransport(links[0]);
  try {
    const data = payloads(sizes);
    await t.recv(1, ACK_TAG); // the worker is up and listening
    const start = performance.now();
    for (const d of data) await t.send(1, DATA_TAG, d);
    await t.recv(1, ACK_TAG);
    const seconds = (performance.now() - start) / 1000;
    return { seconds, mibPerSecond: totalBytes / 2 ** 20 / seconds };
  } finally {
    await t.close();
    // The receiver leaves on its own once its transport is closed; terminate() is the backstop.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]).catch(() => {});
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** Worker side of measureThreadThroughput. */
async function threadReceiver(links: ThreadLinks, sizes: number[]): Promise<void> {
  const t = new ThreadTransport(links);
  await t.send(0, ACK_TAG, new Uint8Array(0));
  await receiveStream(t, 0, sizes);
  await t.send(0, ACK_TAG, new Uint8Array(0));
  await t.close();
}

export interface TransportThroughput extends Throughput {
  transport: string;
}

/** 64 MiB from one worker to another in 4 MiB messages over each in-process transport (after a warm-up). */
export async function benchTransports(totalBytes = 64 * 2 ** 20, messageBytes = 4 * 2 ** 20): Promise<TransportThroughput[]> {
  const local = async (bytes: number) => {
    const [a, b] = LocalTransport.group(2);
    const r = await measureThroughput(a, b, bytes, messageBytes);
    await a.close();
    await b.close();
    return r;
  };
  await local(8 * messageBytes);
  const out: TransportThroughput[] = [{ transport: 'local', ...(await local(totalBytes)) }];
  await measureThreadThroughput(8 * messageBytes, messageBytes);
  out.push({ transport: 'threads', ...(await measureThreadThroughput(totalBytes, messageBytes)) });
  out.push(...(await webrtcThroughput(totalBytes, messageBytes)));
  return out;
}

/** Runs bench/webrtc-throughput.ts (which moves itself into a private network namespace) and reads its lines. */
async function webrtcThroughput(totalBytes: number, messageBytes: number): Promise<TransportThroughput[]> {
  const script = fileURLToPath(new URL('./webrtc-throughput.ts', import.meta.url));
  const register = fileURLToPath(new URL('../scripts/register.mjs', import.meta.url));
  const args = ['--import', register, script, '--mib', String(totalBytes / 2 ** 20), '--message-mib', String(messageBytes / 2 ** 20)];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000 });
  const rows: TransportThroughput[] = [];
  for (const line of run.stdout.split('\n')) {
    const m = /^(webrtc \([^)]*\)).*: ([\d.]+) MiB\/s \((\d+) ms/.exec(line);
    if (m) rows.push({ transport: m[1], mibPerSecond: Number(m[2]), seconds: Number(m[3]) / 1000 });
  }
  if (!rows.length) console.log(`(webrtc throughput unavailable: ${(run.stderr || run.error?.message || 'no output').trim().split('\n').at(-1)})`);
  return rows;
}

async function main(argv: string[]): Promise<void> {
  const args = benchArgs(argv);
  const total = Math.round((args.number('--mib') ?? 64) * 2 ** 20);
  const message = Math.round((args.number('--message-mib') ?? 4) * 2 ** 20);
  const line = (name: string, r: Throughput) =>
    console.log(`${name.padEnd(16)} ${(total / 2 ** 20).toFixed(0)} MiB in ${(message / 2 ** 20).toFixed(2)} MiB messages: ${r.mibPerSecond.toFixed(0)} MiB/s (${(r.seconds * 1000).toFixed(1)} ms)`);
  // One short warm-up of each path (JIT, first allocations), then the measured run.
  const local = async () => {
    const [a, b] = LocalTransport.group(2);
    const r = await measureThroughput(a, b, total, message);
    await a.close();
    await b.close();
    return r;
  };
  const sameThread = async () => {
    const [l0, l1] = threadLinks(2);
    const a = new ThreadTransport(l0);
    const b = new ThreadTransport(l1);
    const r = await measureThroughput(a, b, total, message);
    await a.close();
    await b.close();
    return r;
  };
  await local();
  line('local', await local());
  await sameThread();
  line('threads (1 thr)', await sameThread());
  await measureThreadThroughput(8 * message, message);
  line('threads', await measureThreadThroughput(total, message));
}

if (!isMainThread && workerData?.transportBench) {
  const { links, sizes } = workerData.transportBench as { links: ThreadLinks; sizes: number[] };
  await threadReceiver(links, sizes);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv.slice(2));
}
