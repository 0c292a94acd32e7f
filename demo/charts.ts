// Live plots of a run (uPlot). One LiveChart kind serves both tasks: node classification plots loss and
// train/validation accuracy per epoch (RunCharts); TGN plots the training loss of every batch with its
// smoothed trend, and validation/test/inductive AP per epoch (TemporalCharts).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EpochMetrics } from '../src/engines/engine.ts';
import type { TemporalEpochMetrics } from '../src/engines/temporal.ts';

const BLUE = '#2563eb';
const ORANGE = '#ea580c';
const GREEN = '#15803d';
const PALE_BLUE = '#93c5fd';
const HEIGHT = 220;
/** Whole epochs only on an epoch axis. */
const EPOCH_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000];

export interface SeriesSpec {
  label: string;
  stroke: string;
  width?: number;
}

export interface LiveChartOptions {
  /** The x axis's label ('epoch'). */
  x: string;
  /** x values are whole numbers (ticks at whole steps only). */
  wholeX?: boolean;
  /** Fixed y range, e.g. [0, 1] for accuracy or AP; default: fit the data. */
  yRange?: [number, number];
  /** A y value as the legend and the axis show it. */
  format: (v: number) => string;
  /** Axis ticks, when shorter than `format` (e.g. 80% rather than 80.0%). */
  tick?: (v: number) => string;
  /** uPlot plugins, e.g. one that draws markers over the plot (the room's membership changes). */
  plugins?: uPlot.Plugin[];
}

/**
 * A uPlot chart fed point by point. `push` adds a row (x, then one value per series; null leaves a gap);
 * `redraw` shows what was pushed. The element's `data-points` holds the number of rows, for tests and tools.
 */
export class LiveChart {
  private readonly plot: uPlot;
  private readonly columns: Array<Array<number | null>>;

  constructor(
    private readonly el: HTMLElement,
    series: SeriesSpec[],
    options: LiveChartOptions,
  ) {
    // Values may be undefined as well as null: after clear() the legend can still point at a row that is gone.
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      legend: { live: true },
      plugins: options.plugins,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: options.yRange ? { range: options.yRange } : {} },
      axes: [
        { label: options.x, stroke: '#475569', grid: { stroke: '#e2e8f0' }, incrs: options.wholeX ? EPOCH_INCREMENTS : undefined },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 50, values: options.tick ? (_u, ticks) => ticks.map((t) => options.tick!(t)) : undefined },
      ],
      series: [
        { label: options.x, value: (_u: uPlot, v: number | null | undefined) => (v == null ? '–' : options.wholeX ? String(v) : v.toFixed(2)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: s.width ?? 2,
          points: { show: false },
          value: (_u: uPlot, v: number | null | undefined) => (v == null || Number.isNaN(v) ? '–' : options.format(v)),
        })),
      ],
    };
    this.columns = [[], ...series.map(() => [])];
    this.plot = new uPlot(opts, this.columns as uPlot.AlignedData, el);
    // The figure changes size with the window, and when its task's panel is shown or hidden.
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT })).observe(el.parentElement ?? el);
    this.redraw();
  }

  get points(): number {
    return this.columns[0].length;
  }

  clear(): void {
    for (const column of this.columns) column.length = 0;
  }

  push(x: number, ...values: Array<number | null>): void {
    this.columns[0].push(x);
    values.forEach((v, i) => this.columns[i + 1].push(v));
  }

  redraw(): void {
    this.el.classList.toggle('empty', this.points === 0);
    this.el.dataset.points = String(this.points);
    this.plot.setData(this.columns as uPlot.AlignedData);
    // Without a cursor on the plot, the legend shows the newest point.
    if (this.points > 0 && this.plot.cursor.idx == null) this.plot.setLegend({ idx: this.points - 1 });
  }
}

const percent = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Node classification: loss and train/validation accuracy, one point per epoch. */
export class RunCharts {
  private readonly loss: LiveChart;
  private readonly accuracy: LiveChart;

  constructor(lossEl: HTMLElement, accuracyEl: HTMLElement) {
    this.loss = new LiveChart(lossEl, [
      { label: 'train loss', stroke: BLUE },
      { label: 'validation loss', stroke: ORANGE },
    ], { x: 'epoch', wholeX: true, format: (v) => v.toFixed(4) });
    this.accuracy = new LiveChart(accuracyEl, [
      { label: 'train accuracy', stroke: BLUE },
      { label: 'validation accuracy', stroke: ORANGE },
    ], { x: 'epoch', wholeX: true, yRange: [0, 1], format: percent, tick: (v) => `${Math.round(v * 100)}%` });
  }

  /** Replaces the plotted history (a new run, or the history of a resumed one). */
  reset(history: EpochMetrics[] = []): void {
    this.loss.clear();
    this.accuracy.clear();
    for (const m of history) this.append(m);
    this.redraw();
  }

  add(m: EpochMetrics): void {
    this.append(m);
    this.redraw();
  }

  private append(m: EpochMetrics): void {
    this.loss.push(m.epoch, m.loss, m.valLoss);
    this.accuracy.push(m.epoch, m.trainAcc, m.valAcc);
  }

  private redraw(): void {
    this.loss.redraw();
    this.accuracy.redraw();
  }
}

/** Weight of the past in the smoothed loss (an exponential moving average, bias-corrected). */
const SMOOTHING = 0.9;

/** TGN: every training batch's loss with its smoothed trend (x: fractional epoch), and AP per epoch. */
export class TemporalCharts {
  private readonly loss: LiveChart;
  private readonly ap: LiveChart;
  private average = 0;
  private batches = 0;

  constructor(lossEl: HTMLElement, apEl: HTMLElement) {
    this.loss = new LiveChart(lossEl, [
      { label: 'batch loss', stroke: PALE_BLUE, width: 1 },
      { label: 'smoothed', stroke: BLUE },
    ], { x: 'epoch', format: (v) => v.toFixed(4) });
    this.ap = new LiveChart(apEl, [
      { label: 'validation AP', stroke: ORANGE },
      { label: 'test AP', stroke: BLUE },
      { label: 'inductive AP', stroke: GREEN },
    ], { x: 'epoch', wholeX: true, yRange: [0, 1], format: (v) => v.toFixed(4), tick: (v) => String(Number(v.toFixed(2))) });
  }

  reset(): void {
    this.loss.clear();
    this.ap.clear();
    this.average = 0;
    this.batches = 0;
    this.loss.redraw();
    this.ap.redraw();
  }

  /** Training batches' losses at their fractional epochs. */
  addBatches(x: readonly number[], loss: readonly number[]): void {
    if (!x.length) return;
    x.forEach((at, i) => {
      this.batches++;
      this.average = SMOOTHING * this.average + (1 - SMOOTHING) * loss[i];
      this.loss.push(at, loss[i], this.average / (1 - SMOOTHING ** this.batches));
    });
    this.loss.redraw();
  }

  addEpoch(m: TemporalEpochMetrics): void {
    // NaN (an empty inductive set) leaves a gap rather than breaking the line's scale.
    const gap = (v: number) => (Number.isFinite(v) ? v : null);
    this.ap.push(m.epoch, gap(m.valAp), gap(m.testAp), gap(m.inductiveAp));
    this.ap.redraw();
  }
}
