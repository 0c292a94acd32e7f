// `webgnn plan`: reads the workload (an embedded dataset or folder, measured; a preset; a size file or
// numbers), the device and link profiles, and prints the predicted rows of src/plan for each worker count.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadNodeDataset } from '../graph/node-dataset.ts';
import { parseDeviceProfileText, parseLink, ProfileError, type DeviceProfile } from '../plan/device-profile.ts';
import { PLANNED_MODELS, type ModelSpec } from '../plan/model-cost.ts';
import { planGraph, planTemporal, type Cluster, type GraphPlanRequest, type PlanResult } from '../plan/plan.ts';
import { largestFitting } from '../plan/largest-fitting.ts';
import { formatBytes, type PlanRow } from '../plan/plan-types.ts';
import { EVENT_PRESETS, GRAPH_PRESETS, PRESET_NAMES } from '../plan/presets.ts';
import { TEMPORAL_DEFAULTS } from '../plan/temporal-cost.ts';
import { describedGraph, eventWorkloadOf, graphWorkloadOf, type EventWorkload, type GraphWorkload } from '../plan/workload.ts';
import { parseParallel } from '../engines/temporal/parallel-layout.ts';
import { requireEverySet, splitEvents } from '../graph/temporal-split.ts';
import { loadStreamPrefix } from './temporal-workload.ts';
import { DEFAULT_LAYERS, type NodeModelKind } from '../nn/models/node-classifier.ts';
import { MODEL_DEFAULTS } from './model-defaults.ts';
import { embeddedDatasetNames, resolveDatasetSource } from './dataset-source.ts';

const PROFILES_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));
/** The profile `plan` uses when none is given: this kind of machine's software adapter, measured. */
export const DEFAULT_PROFILE = 'lavapipe-2-cores';

export interface PlanFlags {
  dataset?: string;
  graph?: string;
  nodes?: number;
  edges?: number;
  features?: number;
  classes?: number;
  degreeExponent?: number;
  model: string;
  layers?: number;
  hidden?: number;
  heads?: number;
  dropout?: number;
  mode: 'single' | 'sar' | 'pipe' | 'temporal';
  workers: number[];
  device?: string;
  link?: string;
  memory?: number;
  edgeCut?: number;
  remat: boolean;
  chunks?: number;
  snapshotPeriod?: number;
  evalEvery?: number;
  batchSize?: number;
  memoryDim?: number;
  neighbors?: number;
  staleness?: number;
  events?: number;
  parallel?: string;
  largest: boolean;
  json: boolean;
}

export function shippedProfiles(): string[] {
  try {
    return readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/** A profile by shipped name or file path; a bad one is refused naming the file and field. */
export function loadProfile(nameOrPath: string): DeviceProfile {
  const shipped = join(PROFILES_DIR, `${nameOrPath}.json`);
  const path = existsSync(shipped) ? shipped : nameOrPath;
  if (!existsSync(path)) throw new ProfileError(`profile '${nameOrPath}' not found: not a shipped profile (${shippedProfiles().join(', ')}) and no file at that path`);
  return parseDeviceProfileText(readFileSync(path, 'utf8'), path);
}

/** A workload or link file's JSON; a missing or unreadable file is refused naming it. */
function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ProfileError(`${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProfileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

function clusterOf(flags: PlanFlags): Cluster {
  const device = loadProfile(flags.device ?? (existsSync('webgnn-profile.json') ? 'webgnn-profile.json' : DEFAULT_PROFILE));
  if (flags.memory !== undefined) device.device = { ...device.device, memory_bytes: flags.memory };
  const names = Object.keys(device.links);
  const linkName = flags.link ?? names[names.length - 1];
  // Links inside one machine between devices that share its processor (software adapters): see colocate().
  const colocated = device.device.shared_processor && (linkName === 'local' || linkName === 'threads');
  if (device.links[linkName]) return { device, link: device.links[linkName], linkName: `${linkName} (${device.name})`, colocated };
  if (existsSync(linkName)) {
    return { device, link: parseLink(readJsonFile(linkName), linkName), linkName };
  }
  throw new ProfileError(`--link ${linkName}: the profile '${device.name}' has links ${names.join(', ')}, and there is no link file at that path`);
}

async function graphOf(flags: PlanFlags, cmd: Command): Promise<GraphWorkload> {
  const given = ['nodes', 'edges', 'features', 'classes', 'degreeExponent'].filter((k) => cmd.getOptionValueSource(k) === 'cli');
  const sources = [flags.dataset !== undefined, flags.graph !== undefined, given.length > 0].filter(Boolean).length;
  if (sources > 1) throw new RangeError('plan: give the graph one way: --dataset, --graph FILE, or --nodes/--edges/--features/--classes');
  if (flags.graph) {
    const json = readJsonFile(flags.graph);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProfileError(`${flags.graph}: expected an object with nodes, edges, features, classes`);
    return describedGraph(json as Record<string, unknown>, flags.graph);
  }
  if (given.length) {
    return describedGraph({ nodes: flags.nodes, edges: flags.edges, features: flags.features, classes: flags.classes, degree_exponent: flags.degreeExponent }, 'the command line (--nodes, --edges, --features, --classes)');
  }
  const name = flags.dataset ?? 'cora';
  // An embedded dataset or a folder is at hand: measure it. A preset otherwise.
  if (embeddedDatasetNames().includes(name) || existsSync(name)) return graphWorkloadOf(await loadNodeDataset(resolveDatasetSource(name)));
  const preset = GRAPH_PRESETS[name];
  if (preset) return { ...preset };
  if (EVENT_PRESETS[name]) throw new RangeError(`plan: '${name}' is an event stream: use --mode temporal`);
  throw new RangeError(`plan: dataset '${name}' is not an embedded dataset, a folder, or a preset (${PRESET_NAMES.join(', ')})`);
}

/** Flags that apply only to some modes or models are refused elsewhere, with the reason. */
function refuseInapplicable(flags: PlanFlags, cmd: Command): void {
  const typed = (k: string) => cmd.getOptionValueSource(k) === 'cli';
  const rules: Array<[string, string, boolean, string]> = [
    ['remat', '--no-remat', flags.mode === 'sar', 'the keep-every-halo baseline is a SAR variant'],
    ['edgeCut', '--edge-cut', flags.mode === 'sar' || flags.mode === 'single', 'the pipeline does not partition the graph'],
    ['chunks', '--chunks', flags.mode === 'pipe', 'chunks are the pipeline’s'],
    ['snapshotPeriod', '--snapshot-period', flags.mode === 'pipe', 'historical snapshots are the pipeline’s'],
    ['evalEvery', '--eval-every', flags.mode === 'pipe', 'SAR and one device evaluate every epoch'],
    ['heads', '--heads', flags.model === 'gat', 'only GAT has attention heads'],
    ['batchSize', '--batch-size', flags.mode === 'temporal', 'full-batch training has no batches'],
    ['memoryDim', '--memory-dim', flags.mode === 'temporal', 'only TGN has a node memory'],
    ['neighbors', '--neighbors', flags.mode === 'temporal', 'only TGN samples temporal neighbours'],
    ['staleness', '--staleness', flags.mode === 'temporal', "MSPipe's staleness is temporal training's"],
    ['events', '--events', flags.mode === 'temporal', 'it cuts an event stream'],
    ['parallel', '--parallel', flags.mode === 'temporal', "DistTGL's i×j×k is temporal training's"],
  ];
  for (const [key, flag, applies, why] of rules) {
    if (typed(key) && !applies) throw new RangeError(`plan: ${flag} does not apply to --mode ${flags.mode}${flags.mode === 'temporal' ? '' : ` --model ${flags.model}`}: ${why}`);
  }
  if (flags.mode === 'temporal') {
    for (const [key, flag] of [['model', '--model'], ['layers', '--layers'], ['hidden', '--hidden'], ['dropout', '--dropout']] as const) {
      if (typed(key)) throw new RangeError(`plan: ${flag} does not apply to --mode temporal: it plans TGN (set --memory-dim, --neighbors, --batch-size)`);
    }
  }
  if (flags.largest && flags.mode === 'temporal') throw new RangeError('plan: --largest scales a static graph; it does not apply to --mode temporal');
}

export function modelSpecOf(flags: PlanFlags): ModelSpec {
  const kind = flags.model as NodeModelKind;
  if (!PLANNED_MODELS.includes(kind)) throw new RangeError(`plan: --model ${flags.model} has no cost description; planned models: ${PLANNED_MODELS.join(', ')}`);
  // The flags not given take what `train` would use.
  const d = MODEL_DEFAULTS[kind];
  return { kind, layers: flags.layers ?? DEFAULT_LAYERS[kind], hidden: flags.hidden ?? d.hidden, heads: kind === 'gat' ? (flags.heads ?? d.heads ?? 1) : 1, dropout: flags.dropout ?? d.dropout };
}

export async function runPlan(flags: PlanFlags, cmd: Command): Promise<PlanResult & { largest?: string[] }> {
  refuseInapplicable(flags, cmd);
  const cluster = clusterOf(flags);
  if (flags.mode === 'temporal') {
    const stream = await eventWorkloadFor(flags);
    const layouts = flags.workers.map((w) => parseParallel(flags.parallel ?? 'memory', w));
    const options = { ...TEMPORAL_DEFAULTS, batchSize: flags.batchSize ?? TEMPORAL_DEFAULTS.batchSize, memoryDim: flags.memoryDim ?? TEMPORAL_DEFAULTS.memoryDim, neighbors: flags.neighbors ?? TEMPORAL_DEFAULTS.neighbors, staleness: flags.staleness ?? 0 };
    return planTemporal({ stream, workers: flags.workers, cluster, options, layouts });
  }
  const request: GraphPlanRequest = {
    graph: await graphOf(flags, cmd),
    model: modelSpecOf(flags),
    mode: flags.mode,
    workers: flags.workers,
    cluster,
    remat: flags.remat,
    edgeCut: flags.edgeCut,
    pipe: { chunks: flags.chunks, snapshotPeriod: flags.snapshotPeriod, evalEvery: flags.evalEvery },
  };
  const result = planGraph(request);
  if (!flags.largest) return result;
  const largest = flags.workers.map((w) => {
    const fit = largestFitting(request, w);
    return `${w} workers: the largest graph shaped like ${request.graph.name} that fits is ${fit.nodes.toExponential(3)} nodes, ${fit.nnz.toExponential(3)} non-zeros (${fit.scale.toFixed(3)}× its size)`;
  });
  return { ...result, largest };
}

/** An embedded stream, a folder or a .csv is loaded and split as train-temporal would (measured); else a preset. */
async function eventWorkloadFor(flags: PlanFlags): Promise<EventWorkload> {
  const name = flags.dataset ?? 'collegemsg';
  const preset = EVENT_PRESETS[name];
  if (preset && !embeddedDatasetNames().includes(name)) {
    if (flags.events !== undefined) throw new RangeError(`plan: --events cuts a stream at hand; '${name}' is a preset of published sizes`);
    return preset;
  }
  if (!embeddedDatasetNames().includes(name) && !existsSync(name)) {
    throw new RangeError(`plan --mode temporal: '${name}' is not an embedded stream, a folder or file, or a preset (${Object.keys(EVENT_PRESETS).join(', ')})`);
  }
  const stream = await loadStreamPrefix(name, flags.events);
  const split = splitEvents(stream, { seed: 0 });
  requireEverySet(split, stream);
  return eventWorkloadOf(stream, split);
}

function printTable(rows: PlanRow[]): void {
  const header = ['workers', 'peak/worker', 'largest part', 'sent/worker/epoch', 'compute s', 'comm s', 'overlap s', 'epoch s', 'fits'];
  const lines = rows.map((r) => {
    const [kind, bytes] = Object.entries(r.memory).reduce((a, b) => (b[1] > a[1] ? b : a));
    return [String(r.workers), formatBytes(r.peak_bytes_per_worker), `${kind} ${formatBytes(bytes)}`, formatBytes(r.bytes_sent_per_worker_per_epoch), r.compute_s.toPrecision(3), r.communication_s.toPrecision(3), r.overlap_s.toPrecision(3), r.epoch_s.toPrecision(3), r.fits ? 'yes' : 'NO'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  for (const r of rows) if (r.shortfall) console.log(`${r.workers} workers do not fit: ${r.shortfall}`);
}

export async function planCommand(flags: PlanFlags, cmd: Command): Promise<void> {
  const result = await runPlan(flags, cmd);
  if (!flags.json) {
    for (const note of result.notes) console.log(note);
    console.log(`partition: ${[...new Set(result.rows.map((r) => r.partition))].join('; ')}`);
    printTable(result.rows);
    for (const line of result.largest ?? []) console.log(line);
    return;
  }
  process.stdout.write(JSON.stringify({ notes: result.notes, rows: result.rows, largest: result.largest ?? null }) + '\n');
}
