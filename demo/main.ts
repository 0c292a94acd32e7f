// The demo page: a form, live plots and results around the trainer worker. Everything heavy (parsing,
// training, checkpoints) happens in the worker; this thread only renders what it reports. Two tasks:
// node classification (GCN, GraphSAGE, GAT on Cora or the user's dataset) and TGN link prediction on the
// embedded CollegeMsg event stream (tgn.ts). Settings can come from the address:
// …/demo/?task=tgn&events=1500&memory-dim=16 (a form field's id, less `tgn-` for TGN's).
// Below, the Plan panel (plan.ts) runs the cost model of `webgnn plan` in the page.

import * as Comlink from 'comlink';
import type {
  CheckpointInfo,
  DatasetChoice,
  DatasetInfo,
  Evaluation,
  GpuInfo,
  RunSettings,
  SarRunInfo,
  SavedRunInfo,
  TemporalStreamInfo,
  TrainerApi,
  TrainerEvent,
  TrainResult,
} from '../src/browser/trainer-worker.ts';
import type { EpochMetrics } from '../src/engines/engine.ts';
import { webgpuUnavailableReason } from '../src/gpu/browser-provider.ts';
import { RunCharts } from './charts.ts';
import { collegeMsgUrls } from './collegemsg.ts';
import { renderConfusion } from './confusion.ts';
import { coraUrls } from './cora.ts';
import { $, downloadFile, errorText, input, mib, select, setStatus } from './dom.ts';
import { setupPlanPanel } from './plan.ts';
import { readTemporalSettings, resumeCommand, showStreamInfo, TemporalView, TGN_FORM_IDS } from './tgn.ts';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
/** Small amounts (a worker's traffic on a small graph) in KiB, others in MiB. */
const byteSize = (bytes: number) => (bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : mib(bytes));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const FORM_IDS = ['model', 'workers', 'epochs', 'hidden', 'heads', 'lr', 'weight-decay', 'dropout', 'seed', 'patience', 'optimizer', 'checkpoint-every'];

type Task = 'node' | 'tgn';

const state = {
  trainer: null as Comlink.Remote<TrainerApi> | null,
  gpu: null as GpuInfo | null,
  task: 'node' as Task,
  dataset: null as DatasetInfo | null,
  loadingDataset: false,
  /** The event stream TGN trains on, once the worker has loaded it. */
  stream: null as TemporalStreamInfo | null,
  loadingStream: false,
  training: false,
  paused: false,
  imported: null as (CheckpointInfo & { fileName: string }) | null,
  saved: null as SavedRunInfo | null,
  totalEpochs: 0,
  /** The current run's SAR split, null on one device. */
  sar: null as SarRunInfo | null,
  /** Training loss of every epoch of the current run (index epoch − 1), in full precision. */
  losses: [] as number[],
  firstEpochMs: null as number | null,
  timings: {} as Record<string, number>,
};

let charts: RunCharts;
let temporalView: TemporalView;

function updateControls(): void {
  const ready = !!state.trainer && !!state.gpu;
  const busy = state.training || state.loadingDataset || state.loadingStream;
  for (const id of [...FORM_IDS, ...TGN_FORM_IDS, 'task']) $<HTMLInputElement | HTMLSelectElement>(id).disabled = !ready || state.training;
  for (const el of document.querySelectorAll<HTMLInputElement>('input[name=dataset], #dataset-folder, #dataset-files')) el.disabled = !ready || state.training;
  input('train').disabled = !ready || busy || !(state.task === 'tgn' ? state.stream : state.dataset);
  input('pause').disabled = !state.training;
  input('stop').disabled = !state.training;
  $('pause').textContent = state.paused ? 'Resume' : 'Pause';
  input('export').disabled = !ready || (!state.training && !state.imported && !state.saved && !lastResult);
  input('import').disabled = !ready || state.training;
  input('tgn-export').disabled = !ready || state.training;
  $('import-label').classList.toggle('disabled', !ready || state.training);
  input('evaluate').disabled = busy || !state.dataset;
  input('continue-imported').disabled = busy || !state.dataset;
  input('resume-saved').disabled = busy || !ready;
  input('discard-saved').disabled = state.training;
}

// ---------------------------------------------------------------- settings form

function readSettings(): RunSettings {
  const num = (id: string, ok: (v: number) => boolean, what: string) => {
    const v = Number(input(id).value);
    if (input(id).value.trim() === '' || !ok(v)) throw new Error(`${what} must be ${describe(ok)}, got '${input(id).value}'`);
    return v;
  };
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  const nonNegativeInt = (v: number) => Number.isInteger(v) && v >= 0;
  const positive = (v: number) => v > 0;
  const nonNegative = (v: number) => v >= 0;
  const probability = (v: number) => v >= 0 && v < 1;
  const describe = (ok: (v: number) => boolean) =>
    ok === positiveInt ? 'a positive integer' : ok === nonNegativeInt ? 'a non-negative integer' : ok === positive ? 'a positive number' : ok === probability ? 'in [0, 1)' : 'a non-negative number';
  const model = select('model').value as RunSettings['model'];
  return {
    model,
    workers: Number(select('workers').value),
    epochs: num('epochs', positiveInt, 'Epochs'),
    hidden: num('hidden', positiveInt, 'Hidden units'),
    heads: num('heads', positiveInt, 'Heads'),
    dropout: num('dropout', probability, 'Dropout'),
    patience: num('patience', nonNegativeInt, 'Patience'),
    checkpointEvery: num('checkpoint-every', positiveInt, 'Checkpoint every'),
    training: {
      optimizer: select('optimizer').value as RunSettings['training']['optimizer'],
      lr: num('lr', positive, 'Learning rate'),
      weightDecay: num('weight-decay', nonNegative, 'Weight decay'),
      seed: num('seed', nonNegativeInt, 'Seed'),
      // Kipf & Welling's protocol for GCN, as the CLI does.
      decayFirstLayerOnly: model === 'gcn',
    },
  };
}

function fillForm(s: Omit<Partial<RunSettings>, 'training'> & { training?: Partial<RunSettings['training']> }): void {
  const set = (id: string, v: unknown) => {
    if (v !== undefined && v !== null) $<HTMLInputElement | HTMLSelectElement>(id).value = String(v);
  };
  set('model', s.model);
  if (s.workers !== undefined && ![...select('workers').options].some((o) => o.value === String(s.workers))) {
    select('workers').add(new Option(`${s.workers} · SAR over ${s.workers} devices`, String(s.workers)));
  }
  set('workers', s.workers);
  set('epochs', s.epochs);
  set('hidden', s.hidden);
  set('heads', s.heads);
  set('dropout', s.dropout);
  set('patience', s.patience);
  set('checkpoint-every', s.checkpointEvery);
  set('optimizer', s.training?.optimizer);
  set('lr', s.training?.lr);
  set('weight-decay', s.training?.weightDecay);
  set('seed', s.training?.seed);
}

// ---------------------------------------------------------------- dataset

async function chooseDataset(choice: DatasetChoice): Promise<boolean> {
  const trainer = state.trainer!;
  state.dataset = null;
  state.loadingDataset = true;
  updateControls();
  setStatus('dataset-status', 'Loading and checking the dataset…');
  try {
    const info = await trainer.loadDataset(choice);
    state.dataset = info;
    setStatus(
      'dataset-status',
      `${info.ref.name}: ${info.numNodes.toLocaleString('en')} nodes, ${info.numEdges.toLocaleString('en')} edges, ` +
        `${info.numFeatures.toLocaleString('en')} features, ${info.numClasses} classes · split ${info.train} / ${info.val} / ${info.test}`,
      'ok',
    );
    return true;
  } catch (error) {
    setStatus('dataset-status', `This dataset was refused:\n${errorText(error)}`, 'error');
    return false;
  } finally {
    state.loadingDataset = false;
    updateControls();
  }
}

function chooseCora(): Promise<boolean> {
  input('dataset-cora').checked = true;
  $('files-picker').hidden = true;
  return chooseDataset({ kind: 'embedded', name: 'cora', urls: coraUrls() });
}

function onPickedFiles(el: HTMLInputElement): void {
  const files = [...(el.files ?? [])];
  el.value = ''; // picking the same folder again after fixing a file must fire `change` again
  if (!files.length) return;
  void chooseDataset({ kind: 'files', files });
}

// ---------------------------------------------------------------- training

function showEpoch(m: EpochMetrics, live = true): void {
  if (live && state.firstEpochMs === null) {
    state.firstEpochMs = performance.now();
    state.timings.firstEpochItself = m.epochMs;
    showTimings();
  }
  $('stat-epoch').textContent = `${m.epoch} / ${state.totalEpochs}`;
  $('stat-loss').textContent = m.loss.toFixed(4);
  $('stat-train').textContent = pct(m.trainAcc);
  $('stat-val').textContent = pct(m.valAcc);
  $('stat-ms').textContent = `${m.epochMs.toFixed(0)} ms`;
  state.losses[m.epoch - 1] = m.loss;
  $('stat-loss').dataset.losses = state.losses.join(',');
  showMemory(m.gpuBytes, m.peakGpuBytes);
  showWorkers(m);
  $('progress-bar').style.width = `${Math.min(100, (100 * m.epoch) / Math.max(1, state.totalEpochs))}%`;
  if (live) charts.add(m);
  if (live && !state.paused) setStatus('run-status', `Training… epoch ${m.epoch} of ${state.totalEpochs}${resumedNote()}`);
}

/** The memory card: the one device's bytes, or the fullest worker's (the table below has each). */
function showMemory(bytes: number[], peak: number[]): void {
  const many = bytes.length > 1;
  const most = Math.max(0, ...bytes);
  $('stat-mem-label').textContent = many ? 'GPU mem. / worker' : 'GPU memory';
  $('stat-mem').textContent = most ? mib(most) : '–';
  $('stat-mem').title = many
    ? `the fullest of ${bytes.length} workers now; peaks ${peak.map(mib).join(', ')}: every GPU buffer each worker's device holds, measured by its buffer pool`
    : `peak ${mib(peak[0] ?? 0)}: every GPU buffer the runtime holds, measured by its buffer pool`;
}

/** The SAR panel: how the graph was split, and each worker's memory and traffic. */
function showSarRun(sar: SarRunInfo | null): void {
  state.sar = sar;
  $('sar-panel').hidden = !sar;
  $<HTMLTableElement>('worker-stats').tBodies[0].replaceChildren();
  if (!sar) return;
  const cut = sar.edges ? ` (${((100 * sar.edgeCut) / sar.edges).toFixed(1)} %)` : '';
  $('sar-summary').textContent =
    `SAR over ${sar.workers} workers, each its own GPU device in this tab, linked in memory. ` +
    `The multilevel partition cuts ${sar.edgeCut.toLocaleString('en')} of ${sar.edges.toLocaleString('en')} edges${cut}: ` +
    'their rows are what the workers send each other.';
}

function showWorkers(m: EpochMetrics): void {
  const sar = state.sar;
  if (!sar) return;
  const body = $<HTMLTableElement>('worker-stats').tBodies[0];
  body.replaceChildren(
    ...m.peakGpuBytes.map((peak, w) => {
      const row = document.createElement('tr');
      const sent = m.bytesSent?.[w] ?? 0;
      row.dataset.worker = String(w);
      row.dataset.peakBytes = String(peak);
      row.dataset.bytesSent = String(sent);
      for (const text of [String(w), (sar.nodes[w] ?? 0).toLocaleString('en'), mib(peak), mib(m.gpuBytes[w] ?? 0), byteSize(sent)]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

let startEpoch = 0;
const resumedNote = () => (startEpoch > 0 ? ` (resumed from epoch ${startEpoch})` : '');

function onTrainerEvent(event: TrainerEvent): void {
  switch (event.type) {
    case 'started': {
      state.totalEpochs = event.settings.epochs;
      startEpoch = event.fromEpoch;
      fillForm({ ...event.settings, workers: event.settings.workers ?? 1 });
      charts.reset(event.history);
      showSarRun(event.sar);
      state.losses = [];
      for (const m of event.history) state.losses[m.epoch - 1] = m.loss;
      setStatus('run-status', event.fromEpoch > 0 ? `Resuming from the checkpoint at epoch ${event.fromEpoch}…` : 'Compiling kernels and running the first epoch…');
      $('run-status').dataset.startEpoch = String(event.fromEpoch);
      const last = event.history[event.history.length - 1];
      if (last) showEpoch(last, false);
      break;
    }
    case 'epoch':
      showEpoch(event.metrics);
      break;
    case 'paused':
      setStatus('run-status', `Paused after epoch ${event.epoch}. Press Resume to go on.`);
      break;
    case 'checkpoint': {
      const el = $('checkpoint-status');
      setStatus('checkpoint-status', `Checkpoint of epoch ${event.epoch} saved in this browser (${(event.bytes / 1024).toFixed(0)} KiB, ${new Date(event.savedAt).toLocaleTimeString()}).`);
      el.dataset.epoch = String(event.epoch);
      break;
    }
  }
}

let lastResult: TrainResult | null = null;

/** The form's settings, or null with the problem shown in the status line. */
function settingsOrReport<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    setStatus('run-status', errorText(error), 'error');
    return null;
  }
}

/** Marks the page as training while `body` runs; a failure goes to the status line. */
async function whileTraining(body: () => Promise<void>): Promise<void> {
  state.training = true;
  state.paused = false;
  updateControls();
  try {
    await body();
  } catch (error) {
    setStatus('run-status', `Training failed: ${errorText(error)}`, 'error');
  } finally {
    state.training = false;
    state.paused = false;
    updateControls();
  }
}

async function train(from: 'scratch' | 'saved' | 'imported'): Promise<void> {
  const settings: RunSettings | null = settingsOrReport(readSettings);
  if (!settings) return;
  $('result').hidden = true;
  $('resume-banner').hidden = true;
  delete $('checkpoint-status').dataset.epoch;
  delete $('run-status').dataset.epochMsMedian;
  await whileTraining(async () => {
    const result = await state.trainer!.train({ settings, from }, Comlink.proxy(onTrainerEvent));
    lastResult = result;
    const how = result.stoppedByUser ? 'Stopped' : result.stoppedEarly ? 'Stopped early (no better validation accuracy)' : 'Finished';
    const median = Number.isFinite(result.epochMsMedian) ? ` Median ${result.epochMsMedian.toFixed(0)} ms per epoch.` : '';
    const what = result.epochsRun === 0 ? `Restored the checkpoint of epoch ${result.evaluation.epoch}` : `${how} at epoch ${result.evaluation.epoch}${resumedNote()}`;
    setStatus('run-status', `${what}.${median}`, 'ok');
    if (median) $('run-status').dataset.epochMsMedian = result.epochMsMedian.toFixed(1);
    const best = result.best
      ? ` Best validation accuracy ${pct(result.best.valAcc)} at epoch ${result.best.epoch}, where test accuracy was ${pct(result.best.testAcc)}.`
      : '';
    showEvaluation(result.evaluation, `Final weights of epoch ${result.evaluation.epoch}.${best}`);
  });
  void refreshMemory();
}

// ---------------------------------------------------------------- TGN link prediction

let streamLoad: Promise<boolean> | null = null;

/** Loads CollegeMsg in the worker once (a failed load may be retried by choosing the task again). */
function loadCollegeMsg(): Promise<boolean> {
  if (state.stream) return Promise.resolve(true);
  streamLoad ??= loadCollegeMsgOnce().finally(() => (streamLoad = null));
  return streamLoad;
}

async function loadCollegeMsgOnce(): Promise<boolean> {
  state.loadingStream = true;
  updateControls();
  setStatus('tgn-dataset-status', 'Loading and checking the event stream…');
  try {
    state.stream = await state.trainer!.loadEventStream({ name: 'collegemsg', urls: collegeMsgUrls() });
    showStreamInfo(state.stream);
    return true;
  } catch (error) {
    setStatus('tgn-dataset-status', `The event stream was refused:\n${errorText(error)}`, 'error');
    return false;
  } finally {
    state.loadingStream = false;
    updateControls();
  }
}

async function trainTemporal(): Promise<void> {
  const settings = settingsOrReport(readTemporalSettings);
  if (!settings) return;
  $('tgn-result').hidden = true;
  await whileTraining(async () => {
    const result = await state.trainer!.trainTemporal(settings, Comlink.proxy((event) => temporalView.onEvent(event)));
    temporalView.showResult(result);
    const how = result.stoppedByUser ? 'Stopped' : 'Finished';
    setStatus('run-status', `${how} after ${result.epochsRun} of ${settings.epochs} epochs.`, 'ok');
  });
}

/** The run status line of the task not shown, kept so that switching back shows it again. */
const statusOfTask: Partial<Record<Task, { text: string; className: string }>> = {};

function chooseTask(task: Task): void {
  const status = $('run-status');
  if (task !== state.task && !state.training) {
    statusOfTask[state.task] = { text: status.textContent ?? '', className: status.className };
    const saved = statusOfTask[task];
    if (saved) [status.textContent, status.className] = [saved.text, saved.className];
    else setStatus('run-status', task === 'tgn' ? 'Set the run up, then press Train.' : 'Choose a dataset and a model, then press Train.');
  }
  state.task = task;
  select('task').value = task;
  document.body.dataset.task = task;
  if (task === 'tgn' && state.trainer) void loadCollegeMsg();
  updateControls();
}

/**
 * Settings from the page's address: `task`, and the chosen task's form fields by id (TGN's without
 * their `tgn-` prefix). A value a field cannot hold is reported, naming the parameter.
 */
function applyAddressSettings(params: URLSearchParams): void {
  const problems: string[] = [];
  const task = params.get('task');
  if (task !== null) {
    if (task === 'node' || task === 'tgn') chooseTask(task);
    else problems.push(`task=${task}: expected 'node' or 'tgn'`);
  }
  const fields = state.task === 'tgn' ? TGN_FORM_IDS : FORM_IDS;
  const idOf = (key: string) => (state.task === 'tgn' ? `tgn-${key}` : key);
  for (const [key, value] of params) {
    if (key === 'task') continue;
    const id = idOf(key);
    if (!fields.includes(id)) {
      problems.push(`${key}: not a setting of this task (known: ${fields.map((f) => f.replace(/^tgn-/, '')).join(', ')})`);
      continue;
    }
    const el = $<HTMLInputElement | HTMLSelectElement>(id);
    el.value = value;
    // Number fields empty themselves on text that is not a number, selects on an unknown option.
    if (el.value !== value && !(el instanceof HTMLInputElement && el.type === 'number' && Number(el.value) === Number(value))) {
      problems.push(`${key}=${value}: not a valid value`);
    }
  }
  if (problems.length) setStatus('run-status', `Settings in the address were not all applied:\n${problems.join('\n')}`, 'error');
}

function showEvaluation(e: Evaluation, detail: string): void {
  $('result').hidden = false;
  $('test-acc').textContent = pct(e.testAcc);
  $('test-acc').dataset.value = String(e.testAcc);
  $('test-detail').textContent = `${e.correct} of ${e.total} test nodes classified correctly. ${detail}`;
  renderConfusion($<HTMLTableElement>('confusion'), e.confusion);
}

async function refreshMemory(): Promise<void> {
  const m = await state.trainer?.gpuMemory();
  if (m) showMemory(m.map((w) => w.bytes), m.map((w) => w.peak));
}

// ---------------------------------------------------------------- checkpoints

async function exportCheckpoint(): Promise<void> {
  try {
    const { bytes, epoch, model, dataset } = await state.trainer!.exportCheckpoint();
    const name = `webgnn-${model}-${dataset}-epoch${epoch}.ckpt`;
    downloadFile(bytes, name);
    setStatus('checkpoint-status', `Exported ${name} (${(bytes.byteLength / 1024).toFixed(0)} KiB). The command line resumes from it with --resume.`, 'ok');
  } catch (error) {
    setStatus('checkpoint-status', errorText(error), 'error');
  }
}

/** The last TGN run's newest checkpoint as a file, with the command line that continues it. */
async function exportTemporalCheckpoint(): Promise<void> {
  try {
    const { bytes, epoch } = await state.trainer!.exportTemporalCheckpoint();
    const name = `webgnn-tgn-collegemsg-epoch${epoch}.ckpt`;
    downloadFile(bytes, name);
    const more = resumeCommand(temporalView.settings!, name, epoch + 10);
    setStatus('tgn-export-status', `Exported ${name} (${(bytes.byteLength / 1024).toFixed(0)} KiB, after epoch ${epoch}). Ten more epochs on the command line:\n${more}`, 'ok');
  } catch (error) {
    setStatus('tgn-export-status', errorText(error), 'error');
  }
}

async function importCheckpoint(el: HTMLInputElement): Promise<void> {
  const file = el.files?.[0];
  el.value = '';
  if (!file) return;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const info = await state.trainer!.importCheckpoint(Comlink.transfer(bytes, [bytes.buffer]), file.name);
    state.imported = { ...info, fileName: file.name };
    fillForm({ model: info.model.kind, hidden: info.model.hiddenChannels, dropout: info.model.dropout, training: info.training });
    setStatus(
      'checkpoint-status',
      `Imported ${file.name}: ${info.model.kind.toUpperCase()}, ${info.model.hiddenChannels} hidden units, ` +
        `${info.model.inChannels} features → ${info.model.outChannels} classes, trained ${info.epoch} epochs.`,
      'ok',
    );
    $('imported-actions').hidden = false;
  } catch (error) {
    state.imported = null;
    $('imported-actions').hidden = true;
    setStatus('checkpoint-status', `Could not import ${file.name}: ${errorText(error)}`, 'error');
  }
  updateControls();
}

async function evaluateImported(): Promise<void> {
  state.loadingDataset = true;
  updateControls();
  try {
    const e = await state.trainer!.evaluateImported();
    const info = state.imported!;
    setStatus('run-status', `Evaluated ${info.fileName} without training.`, 'ok');
    showEvaluation(e, `Weights of ${info.fileName} (epoch ${info.epoch}).`);
  } catch (error) {
    setStatus('run-status', `Could not evaluate the checkpoint: ${errorText(error)}`, 'error');
  } finally {
    state.loadingDataset = false;
    updateControls();
    void refreshMemory();
  }
}

function showSavedRun(saved: SavedRunInfo | null): void {
  state.saved = saved;
  const banner = $('resume-banner');
  if (!saved) {
    banner.hidden = true;
    return;
  }
  const workers = (saved.settings as RunSettings).workers ?? 1;
  const what = `${saved.settings.model.toUpperCase()} on ${saved.dataset.name}${workers > 1 ? ` over ${workers} workers` : ''}`;
  const when = new Date(saved.savedAt).toLocaleString();
  $('resume-text').textContent = saved.finished
    ? `Your last run, ${what}, finished at epoch ${saved.epoch}; its checkpoint is saved in this browser (${when}).`
    : `A run of ${what} was interrupted at epoch ${saved.epoch} of ${saved.settings.epochs}. Its checkpoint (${when}) is saved in this browser.`;
  $('resume-saved').textContent = saved.finished ? 'Restore it' : `Resume from epoch ${saved.epoch}`;
  banner.dataset.epoch = String(saved.epoch);
  banner.hidden = false;
}

async function resumeSaved(): Promise<void> {
  const saved = state.saved;
  if (!saved) return;
  let ok: boolean;
  if (saved.dataset.kind === 'embedded') ok = await chooseCora();
  else {
    input('dataset-files-radio').checked = true;
    $('files-picker').hidden = false;
    ok = await chooseDataset({ kind: 'saved-files' });
  }
  if (ok) await train('saved');
}

async function discardSaved(): Promise<void> {
  await state.trainer!.discardSavedRun();
  showSavedRun(null);
  updateControls();
}

// ---------------------------------------------------------------- adapter, timings, start-up

function showAdapter(info: GpuInfo): void {
  const a = info.adapter;
  const badge = $('adapter-badge');
  badge.textContent = `${a.name} · ${a.kind === 'hardware' ? 'GPU' : 'software adapter'}`;
  badge.className = 'badge ok';
  const rows: Array<[string, string]> = [
    ['name', a.name],
    ['kind', a.kind],
    ['vendor / architecture', [a.vendor, a.architecture].filter(Boolean).join(' / ') || '–'],
    ['subgroups', info.subgroups && a.subgroupSizes ? `used (size ${a.subgroupSizes[0]}–${a.subgroupSizes[1]})` : 'not used'],
    ...Object.entries(a.limits).map(([k, v]): [string, string] => [k, v >= 2 ** 20 ? `${v.toLocaleString('en')} (${mib(v)})` : v.toLocaleString('en')]),
  ];
  const dl = $('adapter-info');
  dl.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

function mark(name: string): void {
  state.timings[name] = performance.now();
  showTimings();
}

function showTimings(): void {
  const t = state.timings;
  const parts = [
    t.gpu !== undefined ? `GPU ready ${seconds(t.gpu)}` : '',
    t.dataset !== undefined ? `Cora loaded ${seconds(t.dataset)}` : '',
    state.firstEpochMs !== null
      ? `first epoch done ${seconds(state.firstEpochMs)} (the epoch itself ${seconds(t.firstEpochItself)}, mostly compiling kernels)`
      : '',
  ].filter(Boolean);
  const el = $('timings');
  el.textContent = parts.length ? `After opening the page: ${parts.join(' · ')}.` : '';
  if (state.firstEpochMs !== null) {
    el.dataset.firstEpochMs = state.firstEpochMs.toFixed(0);
    el.dataset.firstEpochItselfMs = t.firstEpochItself.toFixed(0);
  }
}

function showNoWebGpu(reason: string): void {
  document.body.classList.add('no-webgpu');
  $('no-webgpu').hidden = false;
  $('no-webgpu-reason').textContent = reason;
  const badge = $('adapter-badge');
  badge.textContent = 'no WebGPU';
  badge.className = 'badge bad';
  setStatus('run-status', 'Training needs WebGPU, which this browser does not offer (see above).', 'error');
  setStatus('dataset-status', '');
}

/** Each model's published Cora hyperparameters (as the CLI's defaults), filled in when the model changes. */
const MODEL_DEFAULTS: Record<RunSettings['model'], { hidden: number; lr: number; dropout: number }> = {
  gcn: { hidden: 16, lr: 0.01, dropout: 0.5 },
  sage: { hidden: 16, lr: 0.01, dropout: 0.5 },
  gat: { hidden: 8, lr: 0.005, dropout: 0.6 },
  // GCNII's Cora settings (16 layers here; the paper's 64); its convolutions' own decay is 0.01.
  gcnii: { hidden: 64, lr: 0.01, dropout: 0.6 },
  resgcn: { hidden: 64, lr: 0.01, dropout: 0.5 },
};

function wire(): void {
  select('model').addEventListener('change', () => {
    const d = MODEL_DEFAULTS[select('model').value as RunSettings['model']];
    fillForm({ hidden: d.hidden, dropout: d.dropout, training: { lr: d.lr } });
  });
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=dataset]')) {
    radio.addEventListener('change', () => {
      if (radio.value === 'cora') void chooseCora();
      else {
        $('files-picker').hidden = false;
        state.dataset = null;
        setStatus('dataset-status', 'Choose the folder (or its four files).');
        updateControls();
      }
    });
  }
  input('dataset-folder').addEventListener('change', () => onPickedFiles(input('dataset-folder')));
  input('dataset-files').addEventListener('change', () => onPickedFiles(input('dataset-files')));
  select('task').addEventListener('change', () => chooseTask(select('task').value as Task));
  $('train').addEventListener('click', () => void (state.task === 'tgn' ? trainTemporal() : train('scratch')));
  $('pause').addEventListener('click', () => {
    if (!state.trainer || !state.training) return;
    state.paused = !state.paused;
    if (state.paused) {
      void state.trainer.pause();
      setStatus('run-status', 'Pausing after this epoch…');
    } else {
      void state.trainer.resume();
      setStatus('run-status', 'Resuming…');
    }
    updateControls();
  });
  $('stop').addEventListener('click', () => {
    if (!state.trainer || !state.training) return;
    void state.trainer.stop();
    state.paused = false;
    setStatus('run-status', state.task === 'tgn' ? 'Stopping after this batch…' : 'Stopping after this epoch…');
    updateControls();
  });
  $('export').addEventListener('click', () => void exportCheckpoint());
  $('tgn-export').addEventListener('click', () => void exportTemporalCheckpoint());
  input('import').addEventListener('change', () => void importCheckpoint(input('import')));
  $('evaluate').addEventListener('click', () => void evaluateImported());
  $('continue-imported').addEventListener('click', () => void train('imported'));
  $('resume-saved').addEventListener('click', () => void resumeSaved());
  $('discard-saved').addEventListener('click', () => void discardSaved());
}

async function start(): Promise<void> {
  charts = new RunCharts($('loss-chart'), $('acc-chart'));
  temporalView = new TemporalView((text) => setStatus('run-status', text));
  wire();
  // The cost model needs no GPU: the Plan panel works in a browser without WebGPU too.
  setupPlanPanel();
  const params = new URLSearchParams(location.search);
  if (params.get('task') === 'tgn') chooseTask('tgn');
  updateControls();
  const reason = webgpuUnavailableReason();
  if (reason) {
    showNoWebGpu(reason);
    return;
  }
  const worker = new Worker(new URL('../src/browser/trainer-worker.ts', import.meta.url), { type: 'module', name: 'webgnn trainer' });
  worker.addEventListener('error', (event) => {
    setStatus('run-status', `The trainer worker failed: ${event.message || 'it could not be loaded'}`, 'error');
  });
  const trainer = Comlink.wrap<TrainerApi>(worker);
  try {
    state.gpu = await trainer.init();
  } catch (error) {
    worker.terminate();
    showNoWebGpu(errorText(error));
    return;
  }
  state.trainer = trainer;
  mark('gpu');
  showAdapter(state.gpu);
  chooseTask(state.task);
  applyAddressSettings(params);
  const [saved] = await Promise.all([trainer.savedRun().catch(() => null), chooseCora(), state.task === 'tgn' ? loadCollegeMsg() : null]);
  mark('dataset');
  showSavedRun(saved);
  void refreshMemory();
  updateControls();
  document.body.dataset.ready = 'true';
}

void start();
