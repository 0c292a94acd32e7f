// `webgnn profile`: measures this machine's adapter (measure-profile.ts's curves, on the adapter `train`
// would use) and its in-process links (local: a LocalTransport pair; threads: a ThreadTransport to a real
// worker_thread peer), prints a table, and writes the profile JSON that `webgnn plan` reads — validated by
// parseDeviceProfile first, written atomically (a temporary file in the same folder, flushed, renamed).

import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { writeFileAtomically } from './atomic-file.ts';
import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import { LocalTransport } from '../dist/local-transport.ts';
import { threadLinks, ThreadTransport, transferListFor } from '../dist/thread-transport.ts';
import { KERNELS, parseDeviceProfile, PROFILE_FORMAT, type DeviceProfile, type LinkSpec } from '../plan/device-profile.ts';
import { describeShapes, deviceMeasurements, measureDeviceSpec, measureLink, type MeasureLinkOptions, type ProfileSizes } from '../plan/measure-profile.ts';
import { threadEntry } from './engine-threads.ts';
import { createNodeGpu } from './node-gpu.ts';

export const DEFAULT_PROFILE_FILE = 'webgnn-profile.json';

export interface ProfileFlags {
  out?: string;
  name?: string;
  adapter?: string;
  memoryBytes?: number;
  subgroups: boolean;
  quick: boolean;
  json: boolean;
  progress: boolean;
}

// From src/ (this file is .ts) the peer thread runs TypeScript through tsx's hooks; from dist/ it runs the built .js.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const THREAD_EXEC_ARGV = FROM_SOURCES ? ['--import', new URL('../../scripts/register.mjs', import.meta.url).href] : [];

function linkOptions(sizes: ProfileSizes): MeasureLinkOptions {
  return sizes === 'quick' ? { bulkBytes: 2 ** 20, messageBytes: 256 * 2 ** 10, bulkRepeats: 3, roundTrips: 20 } : { bulkBytes: 8 * 2 ** 20, messageBytes: 2 ** 20, bulkRepeats: 3, roundTrips: 50 };
}

function describeLinks(sizes: ProfileSizes): string {
  const o = linkOptions(sizes);
  const mib = (b: number) => `${+(b / 2 ** 20).toFixed(2)} MiB`;
  return (
    `links: local = a LocalTransport pair in one thread, threads = a ThreadTransport to a worker_thread peer; bandwidth from ${mib(o.bulkBytes!)} ` +
    `in ${mib(o.messageBytes!)} messages until the peer's acknowledgement (median of ${o.bulkRepeats}), latency half an 8-byte round trip (${o.roundTrips} timed in 5 blocks, the median block)`
  );
}

/** Bandwidth and latency between two LocalTransports of one group (both in this thread). */
export async function measureLocalLink(options: MeasureLinkOptions = {}): Promise<LinkSpec> {
  const [a, b] = LocalTransport.group(2);
  try {
    return await measureLink({ near: a, far: b }, options);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** Bandwidth and latency from this thread to a worker_thread peer (profile-peer-entry.ts) over a ThreadTransport. */
export async function measureThreadsLink(options: MeasureLinkOptions = {}): Promise<LinkSpec> {
  const links = threadLinks(2);
  const worker = new Worker(threadEntry('profile-peer-entry'), {
    execArgv: THREAD_EXEC_ARGV,
    workerData: { links: links[1] },
    transferList: transferListFor(links[1]),
  });
  let failed: Error | null = null;
  const exited = new Promise<number>((resolveExit) => {
    worker.once('error', (error) => (failed = error));
    worker.once('exit', resolveExit);
  });
  const transport = new ThreadTransport(links[0]);
  try {
    return await measureLink({ near: transport, far: { rank: 1 } }, options);
  } catch (error) {
    throw failed ? new Error(`the threads link's peer thread failed: ${(failed as Error).message}`) : error;
  } finally {
    await transport.close();
    // The peer ends by itself once its transport is closed (it opens no device, so terminate() is a safe backstop).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** Validates `profile`, then writes it to `path` atomically (temporary file in the same folder, flushed, renamed). */
export async function writeProfileFile(path: string, profile: DeviceProfile): Promise<void> {
  const valid = parseDeviceProfile(JSON.parse(JSON.stringify(profile)), path);
  await writeFileAtomically(path, JSON.stringify(valid, null, 2) + '\n', 'profile');
}

const si = (v: number, unit: string): string => {
  const steps: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, prefix] of steps) if (Math.abs(v) >= scale) return `${(v / scale).toPrecision(3)} ${prefix}${unit}`;
  return `${v.toPrecision(3)} ${unit}`;
};
const seconds = (s: number): string => (s >= 1 ? `${s.toPrecision(3)} s` : s >= 1e-3 ? `${(s * 1e3).toPrecision(3)} ms` : `${(s * 1e6).toPrecision(3)} µs`);

/** The profile as a readable table: limits, dispatch, every curve's points (work, rate, time per run), links. */
export function formatProfile(profile: DeviceProfile): string {
  const d = profile.device;
  const lines = [
    `${profile.name} (${profile.source})`,
    `  memory ${si(d.memory_bytes, 'B')}, max buffer ${si(d.max_buffer_bytes, 'B')}, max storage binding ${si(d.max_storage_binding_bytes, 'B')}, dispatch ${seconds(d.dispatch_s)}, read-back ${seconds(d.readback_s)}${d.shared_processor ? `, shares the host's ${d.host_cores} cores` : ''}`,
    `  ${'kernel'.padEnd(14)} ${'work'.padStart(11)} ${'rate'.padStart(13)} ${'time/run'.padStart(10)}`,
  ];
  for (const k of KERNELS) {
    const [unit, rate] = k === 'matmul' ? ['FLOP', 'FLOP/s'] : ['B', 'B/s'];
    d.rates[k].forEach((p, i) => {
      lines.push(`  ${(i === 0 ? k : '').padEnd(14)} ${si(p.work, unit).padStart(11)} ${si(p.per_s, rate).padStart(13)} ${seconds(p.work / p.per_s).padStart(10)}`);
    });
  }
  for (const [name, l] of Object.entries(profile.links)) lines.push(`  link ${name.padEnd(9)} ${si(l.bandwidth_bytes_per_s, 'B/s').padStart(13)}, latency ${seconds(l.latency_s)}`);
  return lines.join('\n');
}

export async function profileCommand(flags: ProfileFlags): Promise<void> {
  const sizes: ProfileSizes = flags.quick ? 'quick' : 'full';
  const out = resolve(flags.out ?? DEFAULT_PROFILE_FILE);
  const memoryBytes = flags.memoryBytes ?? totalmem();
  const gpu = await createNodeGpu({ name: flags.adapter, subgroups: flags.subgroups });
  const a = gpu.adapter;
  const total = deviceMeasurements({ sizes }) + 2;
  const bar = flags.progress
    ? new cliProgress.SingleBar({ format: 'profile |{bar}| {value}/{total} {what}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(total, 0, { what: `${a.name}…` });
  let profile: DeviceProfile;
  try {
    const device = await measureDeviceSpec(gpu, { memoryBytes, hostCores: availableParallelism(), sizes, onProgress: (p) => bar?.update(p.done, { what: p.what }) });
    gpu.destroy();
    const links: Record<string, LinkSpec> = {};
    links.local = await measureLocalLink(linkOptions(sizes));
    bar?.update(total - 1, { what: 'link local' });
    links.threads = await measureThreadsLink(linkOptions(sizes));
    bar?.update(total, { what: 'link threads' });
    const memory = flags.memoryBytes === undefined ? 'os.totalmem() (WebGPU has no memory query; give --memory-bytes for a discrete GPU)' : '--memory-bytes';
    profile = {
      webgnn_profile: PROFILE_FORMAT,
      name: flags.name ?? (a.description ? `${a.name}: ${a.description}` : a.name),
      source: 'measured',
      reference:
        `measured by 'webgnn profile${flags.quick ? ' --quick' : ''}' on adapter ${a.name} (${[a.description, `${a.vendor} ${a.architecture}`.trim(), a.backend, `subgroups ${gpu.hasSubgroups ? 'on' : 'off'}`].filter(Boolean).join('; ')}) in Node ${process.version} on ${process.platform}-${process.arch}, ${new Date().toISOString()}; ` +
        `memory_bytes from ${memory}; steady state: warm-up, then the median of repeated batches, each recorded into one submit and timed to onSubmittedWorkDone; ` +
        `${describeShapes(sizes)}; ${describeLinks(sizes)}`,
      device,
      links,
    };
  } finally {
    bar?.stop();
    gpu.destroy();
  }
  await writeProfileFile(out, profile);
  console.log(formatProfile(profile));
  console.log(`wrote ${out}`);
  if (flags.json) process.stdout.write(JSON.stringify(profile) + '\n');
}
