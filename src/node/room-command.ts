// `webgnn train --mode sar --room ws://…` (create a room and lead it) and `webgnn join LINK` (train in one):
// each is one room member on this machine's device. Progress and membership changes go to stderr; the
// summary (or with --json one JSON object) to stdout.

import { formatRoomLink, type RoomEvent } from '../dist/room-protocol.ts';
import type { RoomPeer } from '../engines/rooms/room-peer.ts';
import type { RoomTrainingSettings } from '../engines/rooms/room-training.ts';
import { median } from '../tensor/stats.ts';
import { loadNodeDataset } from '../graph/node-dataset.ts';
import { loadCheckpointFile, saveCheckpointFile } from './checkpoint-file.ts';
import { resolveDatasetSource } from './dataset-source.ts';
import { loadStreamPrefix } from './temporal-workload.ts';
import { createNodeRoom, joinNodeRoom } from './room-node.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { startRoomServer } from '../dist/room-server.ts';

export interface RoomCommonFlags {
  adapter?: string;
  subgroups: boolean;
  json: boolean;
  checkpoint?: string;
  name?: string;
}

export interface LeadRoomFlags extends RoomCommonFlags {
  room: string;
  dataset: string;
  /** A temporal room (train-temporal): the dataset is an event stream, first `events` of it when given. */
  temporal?: { events?: number };
  training: RoomTrainingSettings;
  workers: number;
  minMembers?: number;
  maxMembers?: number;
  resume?: string;
}

/** Creates a room on the server at flags.room and leads it until training is complete. */
export async function leadRoom(flags: LeadRoomFlags, onLink?: (link: string) => void): Promise<void> {
  if (!/^wss?:\/\//.test(flags.room)) throw new Error(`--room must be a room server's ws:// URL (as 'webgnn serve' prints), got ${JSON.stringify(flags.room)}`);
  const dataset = flags.temporal ? await loadStreamPrefix(flags.dataset, flags.temporal.events) : await loadNodeDataset(resolveDatasetSource(flags.dataset));
  const resume = flags.resume ? await loadCheckpointFile(flags.resume) : undefined;
  const peer = await createNodeRoom(
    { server: flags.room, dataset, training: flags.training, size: flags.workers, minMembers: flags.minMembers, maxMembers: flags.maxMembers, name: flags.name ?? 'node (leader)', resume },
    { adapter: flags.adapter, subgroups: flags.subgroups },
  );
  // Anyone with this link (and a route to the server) can join: tabs open it, Node peers pass it to `webgnn join`.
  const link = formatRoomLink(httpBase(flags.room), peer.link);
  process.stderr.write(`room link: ${link}\n  join from Node: npx webgnn join '${link}'\n`);
  onLink?.(link);
  await runMember(peer, flags, link);
}

/**
 * `webgnn train --mode sar --elastic`: SAR whose workers are processes of their own, members of a room on a
 * server this process runs on 127.0.0.1. This process leads (worker 0); the others are `webgnn join`
 * children. A worker that dies (killed, crashed, its device lost) is recovered from as in any room: the rest
 * roll back to the last commit and go on. This process hosts the server, so losing it ends the run; for a
 * leader that may be lost too, run `webgnn serve` and lead with --room.
 */
export async function trainElastic(flags: Omit<LeadRoomFlags, 'room'>): Promise<void> {
  const server = await startRoomServer({ path: '/rooms' });
  const children: ChildProcess[] = [];
  const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
  try {
    await leadRoom({ ...flags, room: server.url, name: flags.name ?? 'worker 0' }, (link) => {
      for (let w = 1; w < flags.workers; w++) children.push(spawnWorker(link, w, flags));
    });
  } finally {
    // After the room finished, workers leave and end by themselves; a run that failed stops them.
    await Promise.all(
      children.map(async (child) => {
        if (!running(child)) return;
        const closed = new Promise((resolve) => child.once('close', resolve));
        const late = setTimeout(() => child.kill('SIGTERM'), 10_000);
        await closed;
        clearTimeout(late);
      }),
    );
    await server.close();
  }
}

/** One `webgnn join` child: the same entry script as this process, its lines on our stderr prefixed. */
function spawnWorker(link: string, worker: number, flags: RoomCommonFlags): ChildProcess {
  const args = [...process.execArgv, process.argv[1], 'join', link, '--name', `worker ${worker}`];
  if (flags.adapter) args.push('--adapter', flags.adapter);
  if (!flags.subgroups) args.push('--no-subgroups');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  process.stderr.write(`worker ${worker}: process ${child.pid}\n`);
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => {
    const lines = (tail + d.toString()).split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) if (!/^epoch \d/.test(line)) process.stderr.write(`  [worker ${worker}] ${line}\n`);
  });
  child.on('close', (code, signal) => {
    if (code !== 0) process.stderr.write(`worker ${worker} (process ${child.pid}) ended with ${signal ?? `code ${code}`}; the room goes on without it\n`);
  });
  return child;
}

/** Joins the room of `link` and trains in it until it finishes. */
export async function joinRoomCommand(link: string, flags: RoomCommonFlags & { dataset?: string }): Promise<void> {
  const dataset = flags.dataset ? await loadNodeDataset(resolveDatasetSource(flags.dataset)) : undefined;
  const peer = await joinNodeRoom({ link, name: flags.name ?? 'node', dataset }, { adapter: flags.adapter, subgroups: flags.subgroups });
  process.stderr.write(`joined room ${peer.link.room} as member ${peer.client.id}\n`);
  await runMember(peer, flags, link);
}

async function runMember(peer: RoomPeer, flags: RoomCommonFlags, link: string): Promise<void> {
  const { member } = peer;
  const seen = new Set<string>();
  member.on('status', (line) => process.stderr.write(`[member ${peer.client.id}] ${line}\n`));
  member.on('state', (state) => {
    for (const e of state.events) {
      const key = `${e.at}:${e.kind}:${e.id ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      process.stderr.write(`[room] ${describeEvent(e)}\n`);
    }
  });
  member.on('part', (p) =>
    process.stderr.write(
      p.memoryGroup !== undefined
        ? `[member ${peer.client.id}] memory group ${p.memoryGroup} of ${p.size}: all ${p.edges} events over ${p.nodes} nodes (set up in ${p.setupMs.toFixed(0)} ms)\n`
        : p.blocks
        ? `[member ${peer.client.id}] stage ${p.rank} of ${p.size}: blocks ${p.blocks[0]}–${p.blocks[1] - 1} of the model, all ${p.nodes} nodes in chunks (set up in ${p.setupMs.toFixed(0)} ms)\n`
        : `[member ${peer.client.id}] rank ${p.rank} of ${p.size}: ${p.nodes} of ${p.totalNodes} nodes, ${p.edges} edges, halo ${p.halo} (set up in ${p.setupMs.toFixed(0)} ms)\n`,
    ),
  );
  member.on('epoch', (m) =>
    process.stderr.write(
      `epoch ${m.epoch}/${member.training.epochs} loss ${m.loss.toFixed(4)} ` +
        (m.temporal ? `val AP ${m.temporal.valAp.toFixed(4)} test AP ${m.temporal.testAp.toFixed(4)} (${m.temporal.passes} passes) · ` : `val ${(100 * m.valAcc).toFixed(1)}% test ${(100 * m.testAcc).toFixed(1)}% · `) +
        `${m.epochMs.toFixed(0)} ms · sent ${kib(m.bytesSent?.[0] ?? 0)} received ${kib(m.bytesReceived[0])} (generation ${m.generation}, ${m.members.length} members)\n`,
    ),
  );
  if (flags.checkpoint) member.on('checkpoint', ({ data }) => void saveCheckpointFile(flags.checkpoint!, data));
  let exitCode = 0;
  try {
    const summary = await member.run();
    const mine = summary.history.filter((h) => h.members.includes(peer.client.id));
    const result = {
      room: peer.link.room,
      link,
      member: peer.client.id,
      dataset: member.training.dataset,
      model: member.training.model,
      epochs: summary.epochs,
      generations: summary.generations,
      final_loss: summary.final?.loss ?? null,
      final_test_acc: summary.final?.testAcc ?? null,
      final_val_acc: summary.final?.valAcc ?? null,
      // Temporal rooms: link prediction's figures at the last epoch, and the passes made.
      final_test_ap: summary.final?.temporal?.testAp ?? null,
      final_val_ap: summary.final?.temporal?.valAp ?? null,
      passes: summary.final?.temporal?.passes ?? null,
      epoch_ms_median: mine.length ? median(mine.map((h) => h.epochMs)) : null,
      bytes_sent_per_epoch_median: mine.length ? median(mine.map((h) => h.bytesSent?.[0] ?? 0)) : null,
      bytes_received_per_epoch_median: mine.length ? median(mine.map((h) => h.bytesReceived[0])) : null,
      peak_gpu_bytes: peer.memory().peak,
      membership_changes: summary.events.filter((e) => e.kind !== 'started' && e.kind !== 'finished'),
      history: summary.history.map((h) => ({ epoch: h.epoch, loss: h.loss, val_acc: h.valAcc, test_acc: h.testAcc, ...(h.temporal ? { val_ap: h.temporal.valAp, test_ap: h.temporal.testAp, passes: h.temporal.passes } : {}), generation: h.generation, members: h.members, epoch_ms: h.epochMs })),
    };
    if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      const figure = result.final_test_ap !== null ? `final test AP ${result.final_test_ap.toFixed(4)}` : `final test accuracy ${pct(result.final_test_acc)}`;
      console.log(`room ${result.room}: ${result.epochs} epochs over ${result.generations} generation(s); ${figure}, loss ${result.final_loss?.toFixed(4) ?? '-'}`);
      for (const e of result.membership_changes) console.log(`  ${describeEvent(e)}`);
    }
  } catch (error) {
    exitCode = 1;
    throw error;
  } finally {
    await peer.leave().catch(() => {});
    peer.gpu.destroy();
    process.exitCode = exitCode;
  }
}

function describeEvent(e: RoomEvent): string {
  const who = e.id !== undefined ? ` member ${e.id}` : '';
  const lost = e.epochsLost ? `, ${e.epochsLost} epoch${e.epochsLost === 1 ? '' : 's'} redone` : '';
  const gen = e.generation ? ` → generation ${e.generation}` : '';
  return `${(e.at / 1000).toFixed(1)} s: ${e.kind}${who} at epoch ${e.committedEpoch}${lost}${gen}${e.reason ? ` (${e.reason})` : ''}`;
}

/** The page a room server's URL belongs to (http for ws), so that a printed link opens the demo. */
function httpBase(server: string): string {
  const url = new URL(server);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = '/';
  return url.toString();
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)}%`);
