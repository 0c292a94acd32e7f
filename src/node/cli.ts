// The `webgnn` command line: list adapters, train node classifiers (one device or SAR), train TGN. With --json the last line of
// stdout is one JSON object; progress goes to stderr so it never mixes with that line.

import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { loadNodeDataset } from '../graph/node-dataset.ts';
import { consumeRun, median, trainNodeClassification, type NodeRunOptions } from '../engines/node-classification.ts';
import { SingleEngine } from '../engines/single.ts';
import { resolveModelConfig } from '../nn/models/builtin.ts';
import { BUILTIN_MODELS, isModelFile, modelChoiceError, modelFileSource } from './model-file.ts';
import { modelFactory, type ModelSpec } from './model-source.ts';
import { loadCheckpointFile, saveCheckpointFile } from './checkpoint-file.ts';
import { resolveDatasetSource } from './dataset-source.ts';
import { workSince, type DeviceReport, type WorkCounts } from '../gpu/gpu.ts';
import { checkTrainFlags } from './flag-rules.ts';
import { createNodeGpu, nodeProvider } from './node-gpu.ts';
import type { PartitionMethod } from '../engines/sar/placement.ts';
import { createSarEngine, type SarTransportKind } from './sar-setup.ts';
import { createPipeRun, type PipeRun } from './pipe-setup.ts';
import { SNAPSHOT_PERIOD, type PipeOptions } from '../engines/pipe/pipe-options.ts';
import type { EpochMetrics } from '../engines/engine.ts';
import type { StageMethod } from '../engines/pipe/stage-plan.ts';
import { trainTemporal } from './train-temporal.ts';
import type { RoomTraining } from '../engines/rooms/room-training.ts';
import { joinRoomCommand, leadRoom, trainElastic } from './room-command.ts';
import { serveCommand } from './serve-command.ts';
import { DEFAULT_PROFILE, planCommand, shippedProfiles } from './plan-command.ts';
import { MODEL_DEFAULTS } from './model-defaults.ts';
import { PRESET_NAMES } from '../plan/presets.ts';

function number(name: string, check: (v: number) => boolean = Number.isFinite) {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === '' || !check(v)) throw new InvalidArgumentError(`${name} must be a valid number, got '${text}'`);
    return v;
  };
}
function modelChoice(text: string): string {
  if ((BUILTIN_MODELS as readonly string[]).includes(text) || isModelFile(text)) return text;
  throw new InvalidArgumentError(modelChoiceError(text));
}
const positiveInt = (name: string) => number(name, (v) => Number.isInteger(v) && v > 0);
const nonNegativeInt = (name: string) => number(name, (v) => Number.isInteger(v) && v >= 0);
/** A comma-separated list of positive worker counts. */
function workerList(text: string): number[] {
  const list = text.split(',').map((t) => Number(t.trim()));
  if (!list.length || list.some((v) => !Number.isInteger(v) || v < 1)) throw new InvalidArgumentError(`--workers must be positive integers separated by commas (e.g. 1,2,4,8), got '${text}'`);
  return list;
}
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
/** Bytes, optionally with a unit: 4294967296, 4GiB, 24GB. */
function byteSize(name: string) {
  return (text: string): number => {
    const m = /^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$/.exec(text);
    const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
    if (!m || unit === undefined || !(Number(m[1]) > 0)) throw new InvalidArgumentError(`${name} must be a positive size such as 4GiB, 24GB or 1073741824, got '${text}'`);
    return Number(m[1]) * unit;
  };
}

interface TrainFlags {
  dataset: string;
  /** A built-in kind, or a module file of one's own (FILE.mjs[#Export]). */
  model: string;
  heads: number;
  layers: number;
  residual: boolean;
  convWeightDecay: number;
  mode: 'single' | 'sar' | 'pipe';
  workers: number;
  transport: SarTransportKind;
  /** Pipe mode (research/gnnpipe.md): chunks (default 4 per worker), recomputation, the three tricks. */
  chunks?: number;
  recompute: boolean;
  shuffle: boolean;
  unbiasedGradients: boolean;
  snapshotPeriod: number;
  warmup: number;
  evalEvery: number;
  stages: StageMethod;
  /** Pipe mode: replicas of every stage (hybrid; workers = stages × graphParallel). */
  graphParallel: number;
  remat: boolean;
  partition: PartitionMethod;
  epochs: number;
  hidden: number;
  lr: number;
  weightDecay: number;
  dropout: number;
  seed: number;
  patience: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  adapter?: string;
  subgroups: boolean;
  json: boolean;
  progress: boolean;
  checkpoint?: string;
  checkpointEvery: number;
  resume?: string;
  profile: boolean;
  /** A room server's URL: create a room there and lead it. */
  room?: string;
  elastic: boolean;
  minMembers?: number;
  name?: string;
}

function withModelDefaults(flags: TrainFlags, command: Command): TrainFlags {
  const out = { ...flags } as Record<string, unknown>;
  // A model file of one's own takes GCN's published settings for the flags not given.
  for (const [key, value] of Object.entries(MODEL_DEFAULTS[flags.model] ?? MODEL_DEFAULTS.gcn)) {
    if (command.getOptionValueSource(key) === 'default') out[key] = value;
  }
  return out as unknown as TrainFlags;
}

async function train(given: TrainFlags, command: Command): Promise<void> {
  const flags = withModelDefaults(given, command);
  checkTrainFlags(flags, command);
  if (flags.room !== undefined || flags.elastic) {
    const lead = flags.elastic ? trainElastic : leadRoom;
    return lead({
      room: flags.room ?? '',
      dataset: flags.dataset,
      workers: flags.workers,
      minMembers: flags.minMembers,
      name: flags.name,
      resume: flags.resume,
      adapter: flags.adapter,
      subgroups: flags.subgroups,
      json: flags.json,
      checkpoint: flags.checkpoint,
      training: {
        model: flags.model as RoomTraining['model'],
        epochs: flags.epochs,
        hidden: flags.hidden,
        heads: flags.heads,
        layers: flags.layers,
        dropout: flags.dropout,
        lr: flags.lr,
        weightDecay: flags.weightDecay,
        optimizer: flags.optimizer,
        seed: flags.seed,
        decayFirstLayerOnly: flags.model === 'gcn',
        checkpointEvery: flags.checkpoint ? flags.checkpointEvery : 0,
        mode: flags.mode === 'pipe' ? 'pipe' : 'sar',
        ...(flags.mode === 'pipe' ? { pipe: pipeFlags(flags) } : {}),
      },
    });
  }
  const dataset = await loadNodeDataset(resolveDatasetSource(flags.dataset));
  const resume = flags.resume ? await loadCheckpointFile(flags.resume) : undefined;
  const gpu = flags.mode === 'single' ? await createNodeGpu({ name: flags.adapter, subgroups: flags.subgroups, profile: flags.profile }) : null;
  const builtin = (BUILTIN_MODELS as readonly string[]).includes(flags.model) ? (flags.model as NodeRunOptions['model']) : null;
  const options: NodeRunOptions = {
    model: builtin ?? 'gcn',
    hidden: flags.hidden,
    heads: flags.heads,
    layers: flags.layers,
    residual: flags.residual,
    convWeightDecay: flags.convWeightDecay,
    dropout: flags.dropout,
    epochs: flags.epochs,
    patience: flags.patience,
    training: {
      optimizer: flags.optimizer,
      lr: flags.lr,
      weightDecay: flags.weightDecay,
      seed: flags.seed,
      decayFirstLayerOnly: flags.model === 'gcn',
    },
    // A pipeline's training epochs read stale history; only its exact evaluations judge the model, and the best one is kept.
    checkpointEvery: flags.checkpoint && flags.mode !== 'pipe' ? flags.checkpointEvery : 0,
    checkpointBest: flags.mode === 'pipe',
    onCheckpoint: flags.checkpoint ? (data) => saveCheckpointFile(flags.checkpoint!, data) : undefined,
  };
  const sar = { workers: flags.workers, transport: flags.transport, remat: flags.remat, partition: flags.partition, adapter: flags.adapter, subgroups: flags.subgroups };
  // The model: a built-in one (from the checkpoint's config when resuming), or the user's module, whose
  // parameters a checkpoint must match by name and shape.
  const spec: ModelSpec = builtin
    ? { builtin: resolveModelConfig(dataset, options, resume) }
    : modelFileSource(flags.model, { inChannels: dataset.numFeatures, hiddenChannels: flags.hidden, outChannels: dataset.numClasses, dropout: flags.dropout, layers: flags.layers });
  const pipe: PipeRun | null =
    flags.mode === 'pipe'
      ? await createPipeRun(dataset, spec, options.training, { workers: flags.workers, transport: flags.transport, adapter: flags.adapter, subgroups: flags.subgroups }, pipeFlags(flags), resume)
      : null;
  const engine = gpu
    ? new SingleEngine(gpu, (await modelFactory(spec))(), dataset, options.training, resume)
    : (pipe ?? (await createSarEngine(dataset, spec, options.training, sar, resume)));
  const ways = pipe?.options.graphParallel ?? 1;
  const layout = pipe && ways > 1 ? [`${pipe.describe.stages} stages × ${ways} replicas (worker r is stage r mod ${pipe.describe.stages} of replica ⌊r / ${pipe.describe.stages}⌋), ${pipe.options.chunks / ways} of the ${pipe.options.chunks} chunks per replica`] : [];
  const plan = pipe ? [...layout, ...(pipe.describe.plan as string[])] : [];
  if (flags.progress) for (const line of plan) process.stderr.write(`${line}\n`);
  const ages = new RunAges();
  const bar = flags.progress
    ? new cliProgress.SingleBar(
        { format: `epoch {value}/{total} |{bar}| loss {loss} · val acc {val} · {ms} ms/epoch${pipe ? ' · history age max {age} mean {mean}' : ''}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(flags.epochs, resume?.epoch ?? 0, { loss: '-', val: '-', ms: '-', age: '-', mean: '-' });
  // --profile: what each epoch dispatched, submitted and created (one device: the per-step overhead).
  const work: WorkCounts[] = [];
  let workBefore = gpu?.workCounts();
  const summary = await consumeRun(trainNodeClassification(engine, options, resume), (m) => {
    if (gpu && flags.profile && workBefore) {
      const now = gpu.workCounts();
      work.push(workSince(workBefore, now));
      workBefore = now;
    }
    ages.add(m);
    bar?.update(m.epoch, { loss: m.loss.toFixed(4), val: (100 * m.valAcc).toFixed(1) + '%', ms: m.epochMs.toFixed(1), age: ages.max, mean: ages.mean.toFixed(2) });
  }).catch(async (error: unknown) => {
    // A failed run's threads too end by themselves before the process exits (see dispose below).
    await engine.dispose();
    throw error;
  });
  bar?.stop();
  const best = summary.best;
  const result = {
    dataset: dataset.name,
    model: flags.model,
    mode: engine.mode,
    workers: engine.workers,
    ...adapterFields(engine.devices ?? []),
    ...(flags.mode === 'sar' ? { transport: flags.transport, remat: flags.remat, partition: flags.partition } : {}),
    ...(pipe ? { transport: flags.transport, pipe: pipe.describe, staleness_max_age: ages.max, staleness_mean_age: ages.mean } : {}),
    seed: flags.seed,
    hidden: flags.hidden,
    ...(flags.model === 'gat' ? { heads: flags.heads } : {}),
    layers: flags.layers,
    ...(flags.residual ? { residual: true } : {}),
    lr: flags.lr,
    weight_decay: flags.weightDecay,
    ...(flags.model === 'gcnii' ? { conv_weight_decay: flags.convWeightDecay } : {}),
    dropout: flags.dropout,
    epochs: summary.last?.epoch ?? 0,
    epochs_run: summary.epochsRun,
    stopped_early: summary.stoppedEarly,
    best_epoch: best?.epoch ?? null,
    test_acc: best?.testAcc ?? null,
    val_acc: best?.valAcc ?? null,
    train_acc: best?.trainAcc ?? null,
    // The last epoch's weights, not the best validation epoch's.
    final_test_acc: summary.last?.testAcc ?? null,
    // The epoch whose weights the checkpoint holds: the last one, or in pipe mode the best validation epoch.
    checkpoint_epoch: flags.checkpoint ? (pipe ? (best?.epoch ?? null) : (summary.last?.epoch ?? null)) : null,
    final_loss: summary.last?.loss ?? null,
    epoch_ms_median: median(summary.epochMs),
    peak_gpu_bytes_per_worker: summary.last?.peakGpuBytes ?? (gpu ? [gpu.pool.peakAllocatedBytes] : []),
    ...(summary.last?.bytesSent ? { bytes_sent_per_worker_per_epoch: summary.last.bytesSent } : {}),
    checkpoint: flags.checkpoint ?? null,
  };
  if (gpu?.profiler) {
    const kernels = await gpu.profiler.report();
    const total = kernels.reduce((sum, k) => sum + k.ms, 0);
    process.stderr.write(`GPU time per kernel over ${summary.epochsRun} epochs (timestamp queries):\n`);
    for (const k of kernels) {
      process.stderr.write(`  ${k.kernel.padEnd(32)} ${(k.ms / Math.max(1, summary.epochsRun)).toFixed(2).padStart(9)} ms/epoch  ${((100 * k.ms) / total).toFixed(1).padStart(5)}%  ${k.calls} calls\n`);
    }
  }
  if (work.length) printWorkCounts(work);
  // SAR threads free their devices and end before the process exits (an exit during their teardown aborts it).
  await engine.dispose();
  gpu?.destroy();
  if (flags.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
  } else {
    const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)}%`);
    console.log(
      `${result.model.toUpperCase()} on ${result.dataset} (${result.adapter}): test accuracy ${pct(result.test_acc)} ` +
        `at epoch ${result.best_epoch} (val ${pct(result.val_acc)}), ${result.epoch_ms_median.toFixed(1)} ms/epoch median, ` +
        `peak GPU memory ${(result.peak_gpu_bytes_per_worker[0] / 2 ** 20).toFixed(1)} MiB`,
    );
    if (pipe) {
      for (const line of plan) console.log(`  ${line}`);
      console.log(`  historical embeddings read: max age ${ages.max} epochs, mean ${ages.mean.toFixed(2)} (snapshot period ${pipe.options.snapshotPeriod})`);
    }
  }
}

/** Pipe mode's settings from the flags (the rest are pipeDefaults: 4 chunks per worker). */
function pipeFlags(flags: TrainFlags): Partial<PipeOptions> {
  return {
    ...(flags.chunks !== undefined ? { chunks: flags.chunks } : {}),
    recompute: flags.recompute,
    shuffle: flags.shuffle,
    unbiasedGradients: flags.unbiasedGradients,
    snapshotPeriod: flags.snapshotPeriod,
    warmupEpochs: flags.warmup,
    evalEvery: flags.evalEvery,
    stages: flags.stages,
    graphParallel: flags.graphParallel,
  };
}

/** The ages of the historical rows a pipeline run read, over its epochs: the max of the maxima, the mean of the epoch means. */
class RunAges {
  max = 0;
  private sum = 0;
  private epochs = 0;

  add(m: EpochMetrics): void {
    if (!m.staleness) return;
    this.max = Math.max(this.max, m.staleness.maxAge);
    this.sum += m.staleness.meanAge;
    this.epochs++;
  }

  get mean(): number {
    return this.epochs ? this.sum / this.epochs : 0;
  }
}

/** The adapter the workers ran on (their names, should they differ), and whether subgroup kernels ran. */
function adapterFields(devices: DeviceReport[]): { adapter?: string; adapter_description?: string; subgroups?: boolean } {
  if (!devices.length) return {};
  return {
    adapter: [...new Set(devices.map((d) => d.adapter.name))].join(', '),
    adapter_description: devices[0].adapter.description,
    subgroups: devices.every((d) => d.subgroups),
  };
}

async function adapters(flags: { json: boolean }): Promise<void> {
  const list = await nodeProvider.listAdapters();
  if (flags.json) {
    process.stdout.write(JSON.stringify(list) + '\n');
    return;
  }
  if (!list.length) console.log('no WebGPU adapters found (see README: Machines without a GPU)');
  for (const a of list) {
    console.log(`${a.name}  [${a.kind}, ${a.backend}]  ${a.description}`);
    console.log(`  subgroups: ${a.subgroupSizes ? `${a.subgroupSizes[0]}–${a.subgroupSizes[1]}` : 'no'}`);
    console.log(`  limits: ${Object.entries(a.limits).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    console.log(`  features: ${a.features.join(', ')}`);
  }
}

/** The first epoch (it builds kernels and buffers) and the last one (steady state), per device counter. */
function printWorkCounts(work: WorkCounts[]): void {
  const first = work[0];
  const last = work[work.length - 1];
  const line = (w: WorkCounts) =>
    `${w.dispatches} dispatches, ${w.submits} submits, ${w.pipelineLookups} pipeline look-ups (${w.pipelinesCompiled} compiled), ` +
    `${w.bindGroupsCreated} bind groups created (${w.bindGroupsReused} reused), ${w.buffersCreated} buffers created`;
  process.stderr.write(`work per epoch: first epoch ${line(first)}\n`);
  process.stderr.write(`work per epoch: last epoch (${work.length}) ${line(last)}\n`);
}

export function buildProgram(): Command {
  const program = new Command('webgnn').description('Train graph neural networks on WebGPU').showHelpAfterError();
  program
    .command('adapters')
    .description('list the WebGPU adapters available (name, backend, limits, features)')
    .option('--json', 'print JSON', false)
    .action(adapters);
  program
    .command('train')
    .description('train a node classifier (full batch)')
    .option('--dataset <name|path>', "embedded dataset name ('cora') or a dataset folder", 'cora')
    .option('--model <kind|file>', `model: ${BUILTIN_MODELS.join(', ')}, or a module file of one's own (FILE.mjs[#Export], called with { inChannels, hiddenChannels, outChannels, dropout, layers })`, modelChoice, 'gcn')
    .addOption(new Option('--mode <mode>', 'training mode: one device, SAR full-batch over --workers, or a GNNPipe pipeline of --workers stages').choices(['single', 'sar', 'pipe']).default('single'))
    .option('--workers <n>', 'SAR workers (each its own device and graph partition) or pipeline stages (each its own device and layers)', positiveInt('--workers'), 1)
    .addOption(new Option('--transport <kind>', 'how SAR workers or pipeline stages talk').choices(['local', 'threads', 'webrtc']).default('local'))
    .option('--chunks <n>', 'pipe: chunks the graph is cut into (default 4 per worker)', positiveInt('--chunks'))
    .option('--no-recompute', "pipe: keep each chunk's activations for its backward instead of recomputing its forward")
    .option('--no-shuffle', 'pipe: chunks in id order every epoch (trick 1 off)')
    .option('--no-unbiased-gradients', 'pipe: historical gradients as they are, kept across epochs (trick 2, ×2 and cleared each epoch, off)')
    .option('--snapshot-period <k>', 'pipe: historical embeddings restored from a snapshot refreshed every k epochs (trick 3; 1 = off)', positiveInt('--snapshot-period'), SNAPSHOT_PERIOD)
    .option('--warmup <e>', 'pipe: exact (non-pipelined) epochs first', nonNegativeInt('--warmup'), 0)
    .option('--eval-every <e>', 'pipe: exact evaluation every e epochs (and at the last)', positiveInt('--eval-every'), 1)
    .addOption(new Option('--stages <method>', 'pipe: size stages by a measured per-block profile, or one unit per layer').choices(['profile', 'equal']).default('profile'))
    .option('--graph-parallel <m>', 'pipe: m replicas of every stage, each owning 1/m of the chunks and exchanging the rows the others read (hybrid; --workers = stages × m)', positiveInt('--graph-parallel'), 1)
    .option('--no-remat', 'SAR baseline: keep fetched neighbour rows for the backward instead of rematerializing')
    .addOption(new Option('--partition <method>', 'how nodes are split over workers').choices(['metis', 'random']).default('metis'))
    .option('--epochs <n>', 'maximum epochs', positiveInt('--epochs'), 200)
    .option('--hidden <n>', 'hidden channels (per head for GAT; default per model: 16, GAT 8, gcnii and resgcn 64)', positiveInt('--hidden'), 16)
    .option('--layers <n>', 'graph convolution layers (default per model: 2; gcnii 16, where the paper has 64; resgcn 8)', positiveInt('--layers'), 2)
    .option('--residual', 'gcn, sage: every hidden convolution adds its input back (x + ReLU(conv(dropout(x))); needs --layers 3 or more)', false)
    .option('--heads <n>', 'GAT attention heads in the hidden layer', positiveInt('--heads'), 8)
    .option('--lr <x>', 'learning rate (default per model: 0.01, GAT 0.005)', number('--lr', (v) => v > 0), 0.01)
    .option('--weight-decay <x>', "L2 weight decay (gcn: first layer only, as Kipf & Welling; gcnii: its two linear layers, the convolutions take --conv-weight-decay)", number('--weight-decay', (v) => v >= 0), 5e-4)
    .option('--conv-weight-decay <x>', "gcnii: L2 weight decay of the GCNII convolutions (the paper's 0.01)", number('--conv-weight-decay', (v) => v >= 0), 0.01)
    .option('--dropout <p>', 'dropout probability (default per model: 0.5, GAT and gcnii 0.6)', number('--dropout', (v) => v >= 0 && v < 1), 0.5)
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 0)
    .option('--patience <n>', 'stop after n epochs without better validation accuracy (0: never)', nonNegativeInt('--patience'), 100)
    .addOption(new Option('--optimizer <kind>', 'optimizer').choices(['adam', 'adamw', 'sgd']).default('adam'))
    .option('--adapter <name>', "adapter name from 'webgnn adapters' (default: hardware, else lavapipe, else swiftshader)")
    .option('--no-subgroups', 'do not use subgroup operations even if the adapter has them')
    .option('--json', 'print one JSON object as the last line of stdout', false)
    .option('--no-progress', 'no progress bar')
    .option('--checkpoint <path>', 'save weights and optimizer state here (atomically); --mode pipe keeps the best validation epoch, saved at each new best')
    .option('--checkpoint-every <n>', 'checkpoint every n epochs (with --checkpoint)', positiveInt('--checkpoint-every'), 10)
    .option('--resume <path>', 'continue from a checkpoint')
    .option('--profile', 'one device: print the GPU time of each kernel (timestamp queries) and the work of the first and last epochs (dispatches, submits, pipeline look-ups, bind groups and buffers created) to stderr', false)
    .option('--room <url>', "SAR or a pipeline (--mode pipe: every member a stage) in a room: create one on this room server (ws://…/rooms, see 'webgnn serve'), print its link, and lead it; tabs and 'webgnn join' peers train with this process (--workers members start it)")
    .option('--elastic', "SAR or a pipeline over --workers processes of their own (a room on 127.0.0.1 that this process leads; the others are 'webgnn join' children): a worker lost mid-run is recovered from the last epoch's commit", false)
    .option('--min-members <n>', 'with --room or --elastic: below this many members training pauses until enough have joined (default 1)', positiveInt('--min-members'))
    .option('--name <text>', 'with --room or --elastic: the name the other members see')
    .action(train);
  program
    .command('join')
    .description('join a training room from its link (…#room=…&secret=…&server=ws://…) and train in it on this device until it finishes')
    .argument('<link>', 'the room link (a tab shows it; --room prints it)')
    .option('--name <text>', 'the name the other members see', 'node')
    .option('--dataset <name|path>', 'hold this dataset whole too, so that this member can lead if the leader and its deputy are lost')
    .option('--adapter <name>', "adapter name from 'webgnn adapters'")
    .option('--no-subgroups', 'do not use subgroup operations even if the adapter has them')
    .option('--checkpoint <path>', "save the room's commit here (atomically) when the room's checkpoint is due")
    .option('--json', 'print one JSON object as the last line of stdout', false)
    .action((link: string, flags) => joinRoomCommand(link, flags));
  program
    .command('serve')
    .description("run a room server at ws://HOST:PORT/rooms for 'train --room' leaders, 'join' peers and tabs, until SIGINT or SIGTERM")
    .option('--host <address>', 'address to listen on (anything but loopback lets anyone who can reach it and has a room link join)', '127.0.0.1')
    .option('--port <n>', 'port (0: a free one, printed)', number('--port', (v) => Number.isInteger(v) && v >= 0 && v <= 65535), 8787)
    .option('--heartbeat-timeout <ms>', 'drop a member silent for this long', positiveInt('--heartbeat-timeout'), 5000)
    .option('--max-members <n>', 'most members any room may have (default 32)', positiveInt('--max-members'))
    .option('--max-message-bytes <n>', 'largest message a client may send (default 65536)', positiveInt('--max-message-bytes'))
    .option('--rate <msgs/s>', 'messages per second a client may send, in bursts of twice as many (default 100)', positiveInt('--rate'))
    .option('--max-rooms <n>', 'most rooms at once (default 64)', positiveInt('--max-rooms'))
    .option('--quiet', 'no line per room event on stderr', false)
    .action(serveCommand);
  program
    .command('train-temporal')
    .description('train a memory-based temporal GNN (TGN) for link prediction on an event stream')
    .option('--dataset <name|path>', "embedded event stream ('collegemsg'), a folder with events.csv, or a .csv file (src,dst,t[,label][,f…])", 'collegemsg')
    .addOption(new Option('--model <kind>', 'model').choices(['tgn']).default('tgn'))
    .option('--epochs <n>', 'epochs (at most; see --patience)', positiveInt('--epochs'), 30)
    .option('--batch-size <n>', 'events per batch', positiveInt('--batch-size'), 200)
    .option('--events <n>', 'train on the first n events of the stream only (as the demo does)', positiveInt('--events'))
    .option('--staleness <k|auto>', "MSPipe: a batch may read node memory up to k batches stale ('auto': chosen per iteration from measured stage times); 0 = sequential", '0')
    .addOption(new Option('--memory <where>', "where node memory lives: 'device' (GPU) or 'host' (RAM, fetched and written back per batch; default when --staleness is not 0)").choices(['device', 'host']))
    .option('--patience <n>', 'stop after n epochs without a better validation AP (0: never)', nonNegativeInt('--patience'), 6)
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 0)
    .option('--lr <x>', 'learning rate', number('--lr', (v) => v > 0), 2e-4)
    .addOption(new Option('--optimizer <kind>', 'optimizer').choices(['adam', 'adamw', 'sgd']).default('adam'))
    .option('--weight-decay <x>', 'weight decay on every parameter (L2 for adam and sgd, decoupled for adamw)', number('--weight-decay', (v) => v >= 0), 0)
    .option('--memory-dim <n>', 'node memory size', positiveInt('--memory-dim'), 100)
    .option('--neighbors <n>', 'temporal neighbours attended', positiveInt('--neighbors'), 10)
    .addOption(new Option('--sampler <kind>', "which neighbours: the most recent, or drawn uniformly from the past").choices(['recent', 'uniform']).default('recent'))
    .option('--adapter <name>', "adapter name from 'webgnn adapters'")
    .option('--json', 'print one JSON object as the last line of stdout', false)
    .option('--no-progress', 'no progress bar')
    .option('--checkpoint <path>', 'keep the best validation epoch: its weights, optimizer state and node memory, saved (atomically) whenever validation AP improves')
    .option('--resume <path>', 'continue from a train-temporal checkpoint')
    .addOption(new Option('--metric <kind>', "evaluation: 'ap' (each event against one negative: AP, AUC) or 'mrr' (also the mean reciprocal rank against 49 negatives, as DistTGL; the best epoch is then the best validation MRR)").choices(['ap', 'mrr']).default('ap'))
    .option('--static-memory [file]', "DistTGL's static node memory, added to TGN's memory before the embedding: learned first on the training events (phase one), or read from a file --static-memory-save wrote")
    .option('--static-epochs <n>', 'epochs of the static-memory phase (with --static-memory)', positiveInt('--static-epochs'), 5)
    .option('--static-memory-save <file>', 'write the learned static memory (phase one at its best validation epoch) to this file')
    .option('--room <url>', "DistTGL in a room: create one on this room server (ws://…/rooms, see 'webgnn serve'), print its link and lead it; every member (tab or 'webgnn join' peer) is one memory group (--workers members start it)")
    .option('--elastic', "DistTGL over --workers processes of their own (a room on 127.0.0.1 this process leads, 'webgnn join' children): a trainer lost mid-run is recovered from, the groups re-formed over the rest", false)
    .option('--min-members <n>', 'with --room or --elastic: below this many members training pauses until enough have joined (default 1)', positiveInt('--min-members'))
    .option('--name <text>', 'with --room or --elastic: the name the other members see')
    .option('--workers <n>', 'DistTGL: trainers, each on its own device (--epochs then counts passes over the stream)', positiveInt('--workers'), 1)
    .option('--parallel <i×j×k>', "DistTGL: mini-batch × epoch × memory parallelism with i·j·k = --workers, or 'memory', 'epoch', 'batch' (all in one; default memory)")
    .addOption(new Option('--transport <kind>', 'DistTGL: how trainers are linked: devices in this process, or WebRTC data channels').choices(['local', 'threads', 'webrtc']).default('local'))
    .addOption(new Option('--lr-scaling <rule>', "DistTGL: 'linear' multiplies --lr by the number of trainers (as DistTGL), 'none' keeps it").choices(['linear', 'none']).default('linear'))
    .action(trainTemporal);
  program
    .command('profile')
    .description("measure this machine's adapter (kernel rates by size, dispatch cost, limits) and its local and threads links into a JSON profile for 'webgnn plan'")
    .option('--out <file>', 'where to write the profile (atomically)', 'webgnn-profile.json')
    .option('--name <text>', "the profile's name (default: the adapter's name and description)")
    .option('--adapter <name>', "adapter name from 'webgnn adapters' (default: as train)")
    .option('--no-subgroups', 'do not use subgroup operations even if the adapter has them')
    .option('--memory-bytes <n>', "memory one worker may fill (default: os.totalmem(), right for software adapters; WebGPU has no memory query, so give a discrete GPU's)", positiveInt('--memory-bytes'))
    .option('--quick', 'the three smallest sizes per curve and short link runs (seconds; for tests)', false)
    .option('--json', 'print the profile as one JSON object as the last line of stdout', false)
    .option('--no-progress', 'no progress bar')
    .action(async (flags) => (await import('./profile-command.ts')).profileCommand(flags));
  program
    .command('plan')
    .description('predict peak memory, bytes sent and epoch time per worker, for each worker count, before having the machines')
    .option('--dataset <name|path>', `an embedded dataset or a folder (measured: its real partition), or a preset with published sizes (${PRESET_NAMES.join(', ')})`)
    .option('--graph <file>', 'a JSON size description: { nodes, edges (undirected), features, classes, degree_exponent?, edge_cut? }')
    .option('--nodes <n>', 'nodes of a described graph', positiveInt('--nodes'))
    .option('--edges <n>', 'undirected edges of a described graph', nonNegativeInt('--edges'))
    .option('--features <n>', 'input features of a described graph', positiveInt('--features'))
    .option('--classes <n>', 'classes of a described graph', positiveInt('--classes'))
    .option('--degree-exponent <g>', 'power-law degree exponent of a described graph (default: every node of the mean degree)', number('--degree-exponent', (v) => v > 1))
    .option('--model <kind>', 'gcn, sage, gat or gcnii', 'gcn')
    .option('--layers <n>', 'graph convolution layers (default per model: 2; gcnii 16)', positiveInt('--layers'))
    .option('--hidden <n>', 'hidden channels (default per model: 16, GAT 8 per head, gcnii 64)', positiveInt('--hidden'))
    .option('--heads <n>', 'GAT attention heads in the hidden layer (default 8)', positiveInt('--heads'))
    .option('--dropout <p>', "dropout probability (default: the model's, as train; 0: no dropout tensors)", number('--dropout', (v) => v >= 0 && v < 1))
    .addOption(new Option('--mode <mode>', 'one device, SAR, a GNNPipe pipeline, or TGN on an event stream (DistTGL over --workers)').choices(['single', 'sar', 'pipe', 'temporal']).default('sar'))
    .option('--workers <list>', 'worker counts to plan, e.g. 1,2,4,8 or 32,64,128', workerList, [1, 2, 4, 8])
    .option('--device <name|file>', `device profile: a shipped one (${shippedProfiles().join(', ')}) or a file from 'webgnn profile' (default: ./webgnn-profile.json if present, else ${DEFAULT_PROFILE})`)
    .option('--link <name|file>', "a link of the device profile (e.g. local, threads, webrtc) or a JSON file { bandwidth_bytes_per_s, latency_s } (default: the profile's last link)")
    .option('--memory <bytes>', 'memory each worker may fill, overriding the profile (e.g. 4GiB for a browser tab)', byteSize('--memory'))
    .option('--edge-cut <fraction>', 'fraction of edges a partition cuts, for a graph not at hand (default: the preset\'s, else random placement 1 − 1/N)', number('--edge-cut', (v) => v >= 0 && v <= 1))
    .option('--no-remat', 'SAR: the baseline that keeps every fetched halo for the backward')
    .option('--chunks <n>', 'pipe: chunks per epoch (default 4 per worker)', positiveInt('--chunks'))
    .option('--snapshot-period <k>', 'pipe: snapshot period of the historical embeddings (1: no snapshot copy)', positiveInt('--snapshot-period'))
    .option('--eval-every <e>', 'pipe: exact evaluation every e epochs', positiveInt('--eval-every'))
    .option('--batch-size <n>', 'temporal: events per batch', positiveInt('--batch-size'))
    .option('--memory-dim <n>', 'temporal: node memory size', positiveInt('--memory-dim'))
    .option('--neighbors <n>', 'temporal: neighbours attended', positiveInt('--neighbors'))
    .option('--staleness <k>', 'temporal: MSPipe staleness bound (batches in flight)', nonNegativeInt('--staleness'))
    .option('--events <n>', 'temporal: plan the first n events of a stream at hand (as train-temporal --events)', positiveInt('--events'))
    .option('--parallel <i×j×k>', "temporal: DistTGL's mini-batch × epoch × memory parallelism, or memory, epoch, batch (default memory)")
    .option('--largest', 'also print, for each worker count, the largest graph of this shape that fits', false)
    .option('--json', 'print one JSON object { notes, rows: [{ workers, peak_bytes_per_worker, bytes_sent_per_worker_per_epoch, epoch_s, … }] } as the last line of stdout', false)
    .action((flags, cmd) => planCommand(flags, cmd));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    process.stderr.write(`webgnn: ${(error as Error).message}\n`);
    if (process.env.WEBGNN_DEBUG) console.error(error);
    return 1;
  }
}
