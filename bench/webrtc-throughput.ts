// WebRTC transport throughput: 64 MiB from rank 0 to rank 1 in 4 MiB messages, over wrtc data channels
// inside a private network namespace (it re-runs itself under `unshare -n` as the tests do; needs root).
//   node --import ./scripts/register.mjs bench/webrtc-throughput.ts [--mib 64] [--message-mib 4]
//
//   webrtc (1 proc)   both peers in this process (bench/transport-bench.ts's measureThroughput)
//   webrtc (2 procs)  rank 1 in a child process; timed until it acknowledges the last message
// Also prints the namespace's UDP receive-buffer drops (RcvbufErrors): each drop costs SCTP a
// retransmission, and a lost tail a 200+ ms timeout.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.ts';
import { measureThroughput, type Throughput } from './transport-bench.ts';
import { startSignalingServer } from '../src/dist/signaling-server.ts';
import { makeTag, TAG_CHANNEL } from '../src/dist/transport.ts';
import { insidePrivateNetns, netnsUnavailable, runNodeInNetns, REGISTER } from '../test/node/fixtures/netns.ts';
import { connectGroup, connectPeer, SECRET } from '../test/node/fixtures/webrtc-common.ts';

const SELF = fileURLToPath(import.meta.url);
const DATA_TAG = makeTag(TAG_CHANNEL.test, 0xbe10);
const ACK_TAG = makeTag(TAG_CHANNEL.test, 0xbe11);

function udpReceiveDrops(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

function sizesOf(total: number, message: number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= message) sizes.push(Math.min(left, message));
  return sizes;
}

async function inOneProcess(url: string, total: number, message: number): Promise<Throughput> {
  const [a, b] = await connectGroup(2, url, `one-${total}`);
  try {
    return await measureThroughput(a, b, total, message);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

async function acrossProcesses(url: string, total: number, message: number): Promise<Throughput> {
  const room = `two-${total}`;
  const child = spawn(process.execPath, ['--import', REGISTER, SELF, '--receiver', url, room, String(total), String(message)], { stdio: 'inherit' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const me = await connectPeer(0, 2, url, room);
  try {
    const data = sizesOf(total, message).map((n, i) => new Uint8Array(n).fill(i & 0xff));
    await me.recv(1, ACK_TAG);
    const start = performance.now();
    for (const d of data) await me.send(1, DATA_TAG, d);
    await me.recv(1, ACK_TAG);
    const seconds = (performance.now() - start) / 1000;
    return { seconds, mibPerSecond: total / 2 ** 20 / seconds };
  } finally {
    await me.close();
    const code = await exited;
    if (code !== 0) throw new Error(`receiver process exited with ${code}`);
  }
}

async function receiver([url, room, totalArg, messageArg]: string[]): Promise<void> {
  const me = await connectPeer(1, 2, url, room);
  await me.send(0, ACK_TAG, new Uint8Array(0));
  for (const n of sizesOf(Number(totalArg), Number(messageArg))) await me.recv(0, DATA_TAG, { kind: 'u8', shape: [n] });
  await me.send(0, ACK_TAG, new Uint8Array(0));
  await me.close();
}

async function main(argv: string[]): Promise<void> {
  const args = benchArgs(argv);
  const total = Math.round((args.number('--mib') ?? 64) * 2 ** 20);
  const message = Math.round((args.number('--message-mib') ?? 4) * 2 ** 20);
  const server = await startSignalingServer({ host: '127.0.0.1', port: 0, secret: SECRET });
  const line = (name: string, r: Throughput, drops: number) =>
    console.log(
      `${name.padEnd(17)} ${(total / 2 ** 20).toFixed(0)} MiB in ${(message / 2 ** 20).toFixed(2)} MiB messages: ${r.mibPerSecond.toFixed(0)} MiB/s (${(r.seconds * 1000).toFixed(0)} ms, ${drops} UDP receive drops)`,
    );
  try {
    await inOneProcess(server.url, 8 * 2 ** 20, message); // warm-up
    let before = udpReceiveDrops();
    const one = await inOneProcess(server.url, total, message);
    line('webrtc (1 proc)', one, udpReceiveDrops() - before);
    before = udpReceiveDrops();
    const two = await acrossProcesses(server.url, total, message);
    line('webrtc (2 procs)', two, udpReceiveDrops() - before);
  } finally {
    await server.close();
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--receiver') {
  await receiver(argv.slice(1));
  process.exit(0);
} else if (insidePrivateNetns()) {
  await main(argv);
  process.exit(0);
} else {
  const why = netnsUnavailable();
  if (why) {
    console.error(`webrtc-throughput: ${why}`);
    process.exit(1);
  }
  const run = await runNodeInNetns(SELF, argv, 300_000);
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  process.exit(run.code ?? 1);
}
