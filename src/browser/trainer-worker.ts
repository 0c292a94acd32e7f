// The demo's trainer, in a dedicated Web Worker exposed through comlink, so the page stays
// responsive while the GPU trains. It drives the same code as the CLI (loadNodeDataset,
// a SingleEngine or, with several workers, SAR over in-tab devices (sar-browser.ts),
// trainNodeClassification, the checkpoint format); progress goes to a Comlink.proxy callback once per
// epoch; checkpoints go to IndexedDB (see idb-store.ts). Pause, resume and stop act between epochs.
// TGN link prediction on an event stream (loadEventStream, TemporalEngine) runs through
// temporal-trainer.ts: progress several times an epoch, stop after the current batch.

import * as Comlink from 'comlink';
import type { Engine, EpochMetrics } from '../engines/engine.ts';
import { consumeRun, median, trainNodeClassification, type NodeRunOptions } from '../engines/node-classification.ts';
import { SingleEngine } from '../engines/single.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { AdapterDescription } from '../gpu/adapter-description.ts';
import { BrowserGpuProvider, webgpuUnavailableReason } from '../gpu/browser-provider.ts';
import { Gpu } from '../gpu/gpu.ts';
import { NoAdapterError } from '../gpu/provider.ts';
import { loadEventStream, type EventStream } from '../graph/event-stream.ts';
import { loadNodeDataset, type NodeDataset } from '../graph/node-dataset.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../nn/checkpoint.ts';
import { builtinModel, resolveModelConfig } from '../nn/models/builtin.ts';
import { DEFAULT_LAYERS, NodeClassifier, type NodeModelConfig } from '../nn/models/node-classifier.ts';
import { filesSource, urlSource } from './dataset-files.ts';
import * as store from './idb-store.ts';
import type { DatasetRef, RunSettings as StoredRunSettings, SavedRun } from './idb-store.ts';
import { createBrowserSarEngine, MAX_BROWSER_WORKERS, type WorkerMemory } from './sar-browser.ts';
import {
  describeStream,
  runTemporalTraining,
  type TemporalRunSettings,
  type TemporalStreamInfo,
  type TemporalEventSink,
  type TemporalTrainResult,
} from './temporal-trainer.ts';

export type { DatasetRef } from './idb-store.ts';
export type { WorkerMemory } from './sar-browser.ts';
export type { TemporalRunSettings, TemporalSplitInfo, TemporalStreamInfo, TemporalTrainerEvent, TemporalTrainResult } from './temporal-trainer.ts';

/** A run's settings as the page sends them: the stored settings plus how many workers train. */
export interface RunSettings extends StoredRunSettings {
  /** 1 (or absent): one device; more: SAR over that many devices in this tab. Saved with the run. */
  workers?: number;
}

/** What the trainer needs of an engine beyond Engine: single-device and in-tab SAR engines both have it. */
interface TrainerEngine extends Engine {
  readonly currentEpoch: number;
  predictions(): Promise<Int32Array>;
  /** Per-worker device memory (absent: the trainer's own device). */
  memory?(): WorkerMemory[];
}

export type DatasetChoice =
  | { kind: 'embedded'; name: string; urls: Record<string, string> }
  | { kind: 'files'; files: File[] }
  /** The user's files kept in IndexedDB with the saved run. */
  | { kind: 'saved-files' };

export interface DatasetInfo {
  ref: DatasetRef;
  numNodes: number;
  numFeatures: number;
  numClasses: number;
  numEdges: number;
  train: number;
  val: number;
  test: number;
}

export interface GpuInfo {
  adapter: AdapterDescription;
  subgroups: boolean;
}

export interface CheckpointInfo {
  epoch: number;
  model: NodeModelConfig;
  training: NodeTrainingOptions;
  bytes: number;
}

export type SavedRunInfo = Omit<SavedRun, 'checkpoint'> & { bytes: number };

export type TrainerEvent =
  | { type: 'started'; fromEpoch: number; settings: RunSettings; history: EpochMetrics[]; sar: SarRunInfo | null }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'paused'; epoch: number }
  | { type: 'checkpoint'; epoch: number; bytes: number; savedAt: number };

/** How a SAR run split the graph. */
export interface SarRunInfo {
  workers: number;
  /** Undirected edges between different workers' nodes, of `edges`. */
  edgeCut: number;
  edges: number;
  /** Nodes per worker. */
  nodes: number[];
}

export interface Evaluation {
  epoch: number;
  testAcc: number;
  correct: number;
  total: number;
  /** confusion[true class][predicted class] over the test nodes. */
  confusion: number[][];
}

export interface TrainResult {
  epochsRun: number;
  stoppedEarly: boolean;
  stoppedByUser: boolean;
  /** The best validation epoch (its test accuracy is what the CLI reports as test_acc). */
  best: EpochMetrics | null;
  last: EpochMetrics | null;
  epochMsMedian: number;
  /** The final weights on the test split. */
  evaluation: Evaluation;
}

interface Loaded {
  data: NodeDataset;
  ref: DatasetRef;
  /** The picked files of a user dataset (kept with the run so a reload can resume on them). */
  files: File[] | null;
}

let gpu: Gpu | null = null;
let dataset: Loaded | null = null;
/** The event stream TGN trains on (loaded whole; a run may use only its first events). */
let eventStream: EventStream | null = null;
let engine: TrainerEngine | null = null;
let imported: CheckpointData | null = null;
/** The newest checkpoint of the current engine, as written to IndexedDB. */
let lastSaved: { epoch: number; bytes: Uint8Array } | null = null;
/** The newest epoch's checkpoint of the last TGN run (kept in memory: the CLI's train-temporal --resume reads it). */
let lastTemporal: { epoch: number; bytes: Uint8Array; dataset: string } | null = null;
let busy = false;
let control = { paused: false, stop: false, wake: null as (() => void) | null };

/** One replica per SAR worker of the built-in model `config` names. */
function modelFor(config: NodeModelConfig): () => NodeClassifier {
  return () => new NodeClassifier(config);
}

function needGpu(): Gpu {
  if (!gpu) throw new Error('the GPU is not initialised yet');
  return gpu;
}

function needDataset(): Loaded {
  if (!dataset) throw new Error('choose a dataset first');
  return dataset;
}

function idle(what: string): void {
  if (busy) throw new Error(`cannot ${what} while training runs: stop it first`);
}

function replaceEngine(next: TrainerEngine | null): void {
  engine?.dispose();
  engine = next;
  lastSaved = null;
}

/** The run settings a checkpoint was trained with (model and optimizer), with the epochs etc. of `base`. */
function settingsFrom(checkpoint: CheckpointData, base: RunSettings): RunSettings {
  const model = checkpoint.config.model as NodeModelConfig;
  return {
    ...base,
    model: model.kind,
    hidden: model.hiddenChannels,
    heads: model.heads ?? base.heads,
    dropout: model.dropout,
    training: { ...(checkpoint.config.training as unknown as NodeTrainingOptions) },
  };
}

/** The worker count a checkpoint was trained with (SAR checkpoints record it), else 1. */
function sarWorkersOf(checkpoint: CheckpointData): number {
  const workers = (checkpoint.config.sar as { workers?: unknown } | undefined)?.workers;
  return typeof workers === 'number' && Number.isInteger(workers) && workers >= 1 && workers <= MAX_BROWSER_WORKERS ? workers : 1;
}

function evaluate(pred: Int32Array, data: NodeDataset, epoch: number): Evaluation {
  const C = data.numClasses;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  let correct = 0;
  for (const node of data.test) {
    const truth = data.labels[node];
    const guess = pred[node];
    if (guess >= 0 && guess < C) confusion[truth][guess]++;
    if (truth === guess) correct++;
  }
  return { epoch, testAcc: correct / Math.max(1, data.test.length), correct, total: data.test.length, confusion };
}

/** An engine whose run ends after the current epoch once the user asks to stop. */
function stoppable(inner: TrainerEngine): Engine {
  return {
    mode: inner.mode,
    workers: inner.workers,
    snapshot: () => inner.snapshot(),
    dispose: () => inner.dispose(),
    async *run(epochs: number) {
      for await (const m of inner.run(epochs)) {
        yield m;
        if (control.stop) return;
      }
    },
  };
}

const api = {
  /** Opens the GPU device (once); rejects with the reason when WebGPU is unavailable. */
  async init(): Promise<GpuInfo> {
    for (let attempt = 1; !gpu; attempt++) {
      try {
        gpu = await Gpu.create(new BrowserGpuProvider(), { label: 'trainer worker' });
      } catch (error) {
        // Chromium can answer null while its GPU process (re)starts, e.g. on a busy machine: ask again.
        if (!(error instanceof NoAdapterError) || webgpuUnavailableReason() || attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    return { adapter: gpu.adapter, subgroups: gpu.hasSubgroups };
  },

  /** Loads and validates a dataset with the CLI's loader; its errors name the file and line. */
  async loadDataset(choice: DatasetChoice): Promise<DatasetInfo> {
    idle('change the dataset');
    replaceEngine(null);
    dataset = null;
    let loaded: Loaded;
    if (choice.kind === 'embedded') {
      const data = await loadNodeDataset(urlSource(choice.name, choice.urls));
      loaded = { data, ref: { kind: 'embedded', name: choice.name }, files: null };
    } else {
      const saved = choice.kind === 'saved-files' ? await store.loadDatasetFiles() : undefined;
      if (choice.kind === 'saved-files' && !saved) throw new Error('the files of the saved run are no longer in this browser; choose the dataset folder again');
      const source = choice.kind === 'files' ? filesSource(choice.files) : filesSource(saved!.files, saved!.name);
      const data = await loadNodeDataset(source);
      loaded = { data, ref: { kind: 'files', name: source.name }, files: source.files };
    }
    dataset = loaded;
    const d = loaded.data;
    return {
      ref: loaded.ref,
      numNodes: d.numNodes,
      numFeatures: d.numFeatures,
      numClasses: d.numClasses,
      numEdges: d.edgeSrc.length,
      train: d.train.length,
      val: d.val.length,
      test: d.test.length,
    };
  },

  /** The run saved in this browser, if any (without its bytes). */
  async savedRun(): Promise<SavedRunInfo | null> {
    const run = await store.loadRun();
    if (!run) return null;
    const { checkpoint, ...rest } = run;
    return { ...rest, bytes: checkpoint.byteLength };
  },

  async discardSavedRun(): Promise<void> {
    idle('discard the saved run');
    await store.clearRun();
  },

  /** Reads a checkpoint file (the CLI's --checkpoint format); training or evaluation can start from it. */
  importCheckpoint(bytes: Uint8Array, fileName: string): CheckpointInfo {
    const data = decodeCheckpoint(bytes, fileName);
    const model = data.config?.model as NodeModelConfig | undefined;
    // Every built-in kind (DEFAULT_LAYERS names them all); the checkpoint's config gives the depth.
    if (!model || !Object.hasOwn(DEFAULT_LAYERS, model.kind)) {
      throw new Error(`checkpoint ${fileName}: holds a '${model?.kind ?? 'unknown'}' model; the demo runs GCN, GraphSAGE, GAT, GCNII and ResGCN+`);
    }
    imported = data;
    return { epoch: data.epoch, model, training: data.config.training as unknown as NodeTrainingOptions, bytes: bytes.byteLength };
  },

  /**
   * Trains on the loaded dataset: from scratch, from the run saved in IndexedDB ('saved'), or from the
   * imported checkpoint ('imported', with its model and optimizer settings). Resolves when training
   * ends (last epoch, early stop or stop()), with the final weights evaluated on the test split.
   */
  async train(request: { settings: RunSettings; from: 'scratch' | 'saved' | 'imported' }, onEvent: (event: TrainerEvent) => void | Promise<void>): Promise<TrainResult> {
    idle('start another run');
    const device = needGpu();
    const loaded = needDataset();
    busy = true;
    control = { paused: false, stop: false, wake: null };
    try {
      let settings = request.settings;
      let resume: CheckpointData | undefined;
      let history: EpochMetrics[] = [];
      if (request.from === 'saved') {
        const run = await store.loadRun();
        if (!run) throw new Error('there is no saved run in this browser');
        resume = decodeCheckpoint(run.checkpoint, 'saved in this browser');
        history = run.history.filter((m) => m.epoch <= resume!.epoch);
        // A finished run is restored, not trained further; a SAR run resumes on as many workers.
        const saved: RunSettings = { ...run.settings, workers: (run.settings as RunSettings).workers ?? sarWorkersOf(resume) };
        settings = run.finished ? { ...saved, epochs: resume.epoch } : saved;
      } else {
        if (request.from === 'imported') {
          if (!imported) throw new Error('import a checkpoint first');
          resume = imported;
          settings = settingsFrom(imported, settings);
        }
      }
      replaceEngine(null);
      const workers = settings.workers ?? 1;
      if (!Number.isInteger(workers) || workers < 1 || workers > MAX_BROWSER_WORKERS) throw new Error(`Workers must be an integer in 1..${MAX_BROWSER_WORKERS}, got ${workers}`);
      // The engines take any Module; the page offers the built-in kinds (one replica per SAR worker).
      const makeModel = modelFor(resolveModelConfig(loaded.data, settings, resume));
      let current: TrainerEngine;
      let sar: SarRunInfo | null = null;
      if (workers > 1) {
        // The SAR workers open their own devices: give back what the previous run left in this one.
        device.submit();
        device.pool.trim();
        const sarEngine = await createBrowserSarEngine(loaded.data, makeModel, settings.training, { workers }, resume);
        current = sarEngine;
        sar = { workers, edgeCut: sarEngine.edgeCut, edges: sarEngine.edges, nodes: sarEngine.nodesPerWorker };
      } else {
        current = new SingleEngine(device, makeModel(), loaded.data, settings.training, resume);
      }
      engine = current;
      // Only once the model is built (a mismatched checkpoint is refused above) is the previous run forgotten.
      if (request.from !== 'saved') await store.beginRun(loaded.files ? { name: loaded.ref.name, files: loaded.files } : null);
      const saved: { record: SavedRun | null } = { record: null };
      const options: NodeRunOptions = {
        ...settings,
        onCheckpoint: async (data) => {
          const bytes = encodeCheckpoint(data);
          const record: SavedRun = { checkpoint: bytes, epoch: data.epoch, settings, dataset: loaded.ref, history: history.slice(), finished: false, savedAt: Date.now() };
          await store.saveRun(record);
          saved.record = record;
          lastSaved = { epoch: data.epoch, bytes };
          await onEvent({ type: 'checkpoint', epoch: data.epoch, bytes: bytes.byteLength, savedAt: record.savedAt });
        },
      };
      // Awaited: the page has every event before the result (see TemporalEventSink).
      await onEvent({ type: 'started', fromEpoch: resume?.epoch ?? 0, settings, history, sar });
      const summary = await consumeRun(trainNodeClassification(stoppable(current), options, resume), async (metrics) => {
        history.push(metrics);
        await onEvent({ type: 'epoch', metrics });
        if (control.paused && !control.stop) {
          await onEvent({ type: 'paused', epoch: metrics.epoch });
          while (control.paused && !control.stop) await new Promise<void>((wake) => (control.wake = wake));
        }
      });
      const stoppedByUser = control.stop && current.currentEpoch < settings.epochs && !summary.stoppedEarly;
      if (saved.record && !stoppedByUser) await store.saveRun({ ...saved.record, finished: true });
      return {
        epochsRun: summary.epochsRun,
        stoppedEarly: summary.stoppedEarly,
        stoppedByUser,
        best: summary.best,
        last: summary.last,
        epochMsMedian: median(summary.epochMs),
        evaluation: evaluate(await current.predictions(), loaded.data, current.currentEpoch),
      };
    } finally {
      busy = false;
    }
  },

  /** Loads and validates an event stream (e.g. the embedded CollegeMsg) with the CLI's loader; its errors name the file and line. */
  async loadEventStream(choice: { name: string; urls: Record<string, string> }): Promise<TemporalStreamInfo> {
    idle('change the event stream');
    eventStream = null;
    eventStream = await loadEventStream(urlSource(choice.name, choice.urls));
    return describeStream(eventStream);
  },

  /**
   * Trains TGN for link prediction on the loaded event stream (or its first `settings.events` events).
   * Resolves when the last epoch is done or stop() took effect (after the current batch). The node
   * classification model, if any, stays as it was.
   */
  async trainTemporal(settings: TemporalRunSettings, onEvent: TemporalEventSink): Promise<TemporalTrainResult> {
    idle('start another run');
    const device = needGpu();
    if (!eventStream) throw new Error('load the event stream first');
    const stream = eventStream;
    busy = true;
    control = { paused: false, stop: false, wake: null };
    lastTemporal = null;
    try {
      return await runTemporalTraining(
        device,
        stream,
        settings,
        {
          get stopRequested() {
            return control.stop;
          },
          async waitWhilePaused(epoch: number) {
            if (!control.paused || control.stop) return;
            await onEvent({ type: 'paused', epoch });
            while (control.paused && !control.stop) await new Promise<void>((wake) => (control.wake = wake));
          },
        },
        onEvent,
        (data) => {
          lastTemporal = { epoch: data.epoch, bytes: encodeCheckpoint(data), dataset: stream.name };
        },
      );
    } finally {
      busy = false;
    }
  },

  /** The last TGN run's newest checkpoint, as the CLI's `train-temporal --checkpoint` writes it. */
  exportTemporalCheckpoint(): { bytes: Uint8Array; epoch: number; dataset: string } {
    if (!lastTemporal) throw new Error(busy ? 'no TGN epoch has finished yet in this run' : 'there is no TGN model to export yet: train one');
    const copy = lastTemporal.bytes.slice();
    return Comlink.transfer({ bytes: copy, epoch: lastTemporal.epoch, dataset: lastTemporal.dataset }, [copy.buffer]);
  },

  pause(): void {
    if (busy) control.paused = true;
  },

  resume(): void {
    control.paused = false;
    control.wake?.();
  },

  stop(): void {
    control.stop = true;
    control.wake?.();
  },

  /** Test accuracy and confusion of the imported checkpoint's weights on the loaded dataset, without training. */
  async evaluateImported(): Promise<Evaluation> {
    idle('evaluate');
    if (!imported) throw new Error('import a checkpoint first');
    const loaded = needDataset();
    const settings = settingsFrom(imported, { model: 'gcn', hidden: 0, dropout: 0, epochs: imported.epoch, patience: 0, training: {} as NodeTrainingOptions });
    replaceEngine(new SingleEngine(needGpu(), builtinModel(loaded.data, settings, imported), loaded.data, settings.training, imported));
    return evaluate(await engine!.predictions(), loaded.data, engine!.currentEpoch);
  },

  /**
   * The current model as a checkpoint file: while training, the newest checkpoint written; otherwise
   * the model in memory (trained or imported), else the run saved in this browser.
   */
  async exportCheckpoint(): Promise<{ bytes: Uint8Array; epoch: number; model: string; dataset: string }> {
    let bytes: Uint8Array | null = null;
    if (engine && lastSaved && (busy || lastSaved.epoch === engine.currentEpoch)) bytes = lastSaved.bytes;
    else if (engine && !busy) bytes = encodeCheckpoint(await engine.snapshot());
    else bytes = (await store.loadRun())?.checkpoint ?? null;
    if (!bytes) throw new Error(busy ? 'no checkpoint has been written yet in this run' : 'there is no model to export yet: train or import one');
    const header = decodeCheckpoint(bytes, 'export');
    const copy = bytes.slice();
    return Comlink.transfer(
      { bytes: copy, epoch: header.epoch, model: String((header.config.model as NodeModelConfig).kind), dataset: dataset?.ref.name ?? 'dataset' },
      [copy.buffer],
    );
  },

  /** GPU bytes the runtime holds now and at most so far: per worker of a SAR run, else of the one device. */
  gpuMemory(): WorkerMemory[] {
    return engine?.memory?.() ?? [{ bytes: gpu?.pool.allocatedBytes ?? 0, peak: gpu?.pool.peakAllocatedBytes ?? 0 }];
  },
};

export type TrainerApi = typeof api;

Comlink.expose(api);
