// The demo's TGN link-prediction task: its form, and how a run shows on the board (cards, a progress line
// with events per second, live loss and AP plots, the results of the best validation epoch).

import type { TemporalEpochMetrics } from '../src/engines/temporal.ts';
import type {
  TemporalRunSettings,
  TemporalStreamInfo,
  TemporalTrainerEvent,
  TemporalTrainResult,
} from '../src/browser/trainer-worker.ts';
import { parseStaleness } from '../src/engines/staleness-policy.ts';
import { TemporalCharts } from './charts.ts';
import { $, input, mib, numberField, select, setStatus } from './dom.ts';

/** The form's fields; a page address sets them by the name after `tgn-` (…/demo/?task=tgn&events=1500). */
export const TGN_FORM_IDS = [
  'tgn-epochs',
  'tgn-batch-size',
  'tgn-lr',
  'tgn-memory-dim',
  'tgn-neighbors',
  'tgn-events',
  'tgn-seed',
  'tgn-staleness',
  'tgn-memory',
  'tgn-sampler',
];

const ap = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');
const count = (n: number) => n.toLocaleString('en');
const PHASES = { train: 'training', val: 'validation', test: 'test' } as const;

export function readTemporalSettings(): TemporalRunSettings {
  const events = input('tgn-events').value.trim();
  return {
    epochs: numberField('tgn-epochs', 'Epochs', 'positive integer'),
    batchSize: numberField('tgn-batch-size', 'Batch size', 'positive integer'),
    lr: numberField('tgn-lr', 'Learning rate', 'positive number'),
    memoryDim: numberField('tgn-memory-dim', 'Memory dim', 'positive integer'),
    neighbors: numberField('tgn-neighbors', 'Neighbours', 'positive integer'),
    // Empty: the whole stream.
    events: events === '' ? null : numberField('tgn-events', 'Events', 'positive integer'),
    seed: numberField('tgn-seed', 'Seed', 'non-negative integer'),
    staleness: parseStaleness(input('tgn-staleness').value, 'Staleness'),
    // The select's '' is the CLI's default: GPU memory when sequential, host RAM when pipelined.
    memory: (select('tgn-memory').value || null) as TemporalRunSettings['memory'],
    sampler: select('tgn-sampler').value as TemporalRunSettings['sampler'],
  };
}

export function showStreamInfo(info: TemporalStreamInfo): void {
  const days = info.span / 86_400;
  setStatus(
    'tgn-dataset-status',
    `${info.name}: ${count(info.numNodes)} nodes, ${count(info.numEvents)} events over ${Math.floor(days)} days` +
      (info.edgeDim ? `, ${info.edgeDim} edge features` : ''),
    'ok',
  );
  input('tgn-events').placeholder = `all (${count(info.numEvents)})`;
  input('tgn-events').max = String(info.numEvents);
}

/** The command line that continues a TGN checkpoint exported from the page: the same stream, model and training settings. */
export function resumeCommand(s: TemporalRunSettings, file: string, epochs: number): string {
  const flags = [
    ...(s.events === null ? [] : [`--events ${s.events}`]),
    `--batch-size ${s.batchSize}`,
    `--lr ${s.lr}`,
    `--memory-dim ${s.memoryDim}`,
    `--neighbors ${s.neighbors}`,
    `--seed ${s.seed}`,
    ...(s.staleness === 0 ? [] : [`--staleness ${s.staleness}`]),
    ...(s.memory === null ? [] : [`--memory ${s.memory}`]),
    ...(s.sampler === 'recent' ? [] : [`--sampler ${s.sampler}`]),
    // The page trains every epoch it is asked for; the CLI's default early stopping (patience 6) would not.
    '--patience 0',
  ];
  return `npx webgnn train-temporal ${flags.join(' ')} --epochs ${epochs} --resume ${file}`;
}

/** What the board shows of a TGN run, fed by the worker's events. */
export class TemporalView {
  private readonly charts = new TemporalCharts($('tgn-loss-chart'), $('tgn-ap-chart'));
  private epochs = 0;
  /** The settings of the run shown (or last shown). */
  settings: TemporalRunSettings | null = null;
  /** Events per epoch by phase, to place a batch on the progress bar. */
  private phaseEvents = { train: 0, val: 0, test: 0 };

  constructor(private readonly setRunStatus: (text: string) => void) {}

  onEvent(event: TemporalTrainerEvent): void {
    switch (event.type) {
      case 'started': {
        const { stream, split, settings } = event;
        this.settings = settings;
        this.epochs = settings.epochs;
        setStatus('tgn-export-status', '');
        this.phaseEvents = { train: split.train, val: split.val, test: split.test };
        this.charts.reset();
        $('tgn-epochs-table').querySelector('tbody')!.replaceChildren();
        for (const id of ['tgn-stat-loss', 'tgn-stat-val', 'tgn-stat-test', 'tgn-stat-eps']) $(id).textContent = '–';
        $('tgn-stat-epoch').textContent = `0 / ${settings.epochs}`;
        $('tgn-split').textContent =
          `${stream.name}: ${count(stream.numEvents)} events, ${count(stream.numNodes)} nodes · split ${count(split.train)} training / ` +
          `${count(split.val)} validation / ${count(split.test)} test events (${count(split.inductiveTest)} test events touch one of ` +
          `${count(split.newNodes)} nodes never seen in training; ${count(split.droppedTrainEvents)} training events of held-out nodes left out).`;
        this.setRunStatus('Compiling kernels and training the first batches…');
        break;
      }
      case 'progress': {
        this.charts.addBatches(event.batchX, event.batchLoss);
        const line = $('tgn-progress');
        line.textContent =
          `Epoch ${event.epoch} of ${this.epochs} · ${PHASES[event.phase]} · ${count(event.done)} / ${count(event.total)} events · ` +
          `${count(Math.round(event.eventsPerSecond))} events/s`;
        line.dataset.phase = event.phase;
        const { train, val, test } = this.phaseEvents;
        const before = event.phase === 'train' ? 0 : event.phase === 'val' ? train : train + val;
        const within = (before + event.done) / Math.max(1, train + val + test);
        this.progressBar((event.epoch - 1 + within) / Math.max(1, this.epochs));
        if (event.phase === 'train' && event.batchLoss.length) $('tgn-stat-loss').textContent = event.batchLoss[event.batchLoss.length - 1].toFixed(4);
        break;
      }
      case 'epoch':
        this.showEpoch(event.metrics, event.gpuBytes);
        break;
      case 'paused':
        this.setRunStatus(`Paused after epoch ${event.epoch}. Press Resume to go on.`);
        break;
    }
  }

  private showEpoch(m: TemporalEpochMetrics, gpuBytes: number): void {
    this.charts.addEpoch(m);
    $('tgn-stat-epoch').textContent = `${m.epoch} / ${this.epochs}`;
    $('tgn-stat-loss').textContent = m.loss.toFixed(4);
    $('tgn-stat-val').textContent = ap(m.valAp);
    $('tgn-stat-test').textContent = ap(m.testAp);
    $('tgn-stat-eps').textContent = count(Math.round(m.eventsPerSecond));
    $('tgn-stat-mem').textContent = mib(gpuBytes);
    $('tgn-stat-mem').title = `peak ${mib(m.peakGpuBytes[0] ?? 0)}: every GPU buffer the runtime holds, measured by its buffer pool`;
    this.progressBar(m.epoch / Math.max(1, this.epochs));
    const row = document.createElement('tr');
    const values: Record<string, number> = {
      epoch: m.epoch,
      loss: m.loss,
      valAp: m.valAp,
      testAp: m.testAp,
      testAuc: m.testAuc,
      inductiveAp: m.inductiveAp,
      eventsPerSecond: m.eventsPerSecond,
      stalenessMean: m.staleness.mean,
    };
    for (const [key, v] of Object.entries(values)) {
      row.dataset[key] = String(v);
      const cell = document.createElement('td');
      cell.textContent = key === 'epoch' ? String(v) : key === 'eventsPerSecond' ? count(Math.round(v)) : key === 'loss' ? v.toFixed(4) : key === 'stalenessMean' ? v.toFixed(2) : ap(v);
      row.append(cell);
    }
    $('tgn-epochs-table').querySelector('tbody')!.append(row);
    this.setRunStatus(`Training… epoch ${m.epoch} of ${this.epochs} done`);
  }

  private progressBar(fraction: number): void {
    $('progress-bar').style.width = `${Math.min(100, Math.max(0, 100 * fraction))}%`;
  }

  /** The results: test AP/AUC and inductive AP/AUC of the best validation epoch. */
  showResult(result: TemporalTrainResult): void {
    const best = result.best;
    $('tgn-result').hidden = false;
    $('tgn-progress').textContent = '';
    const set = (id: string, v: number | undefined) => {
      $(id).textContent = v === undefined ? '–' : ap(v);
      $(id).dataset.value = v === undefined ? '' : String(v);
    };
    set('tgn-test-ap', best?.testAp);
    set('tgn-test-auc', best?.testAuc);
    set('tgn-inductive-ap', best?.inductiveAp);
    set('tgn-inductive-auc', best?.inductiveAuc);
    const rate = result.eventsPerSecond === null ? '' : ` Training ran at ${count(Math.round(result.eventsPerSecond))} events/s on average.`;
    const k = result.staleness;
    const pipeline = k.setting === 0 ? '' : ` MSPipe (staleness ${k.setting}): k was ${k.mean.toFixed(2)} on average and at most ${k.max} over the training batches.`;
    $('tgn-result-detail').textContent = best
      ? `Best validation AP ${ap(best.valAp)} at epoch ${best.epoch} of ${result.epochsRun}: its test scores are shown (negatives drawn at random, ` +
        `one per event). Inductive: the ${count(result.split.inductiveTest)} test events that touch a node never seen in training.${rate}${pipeline}`
      : 'No epoch finished, so there is nothing to evaluate yet.';
  }
}
