// Live plots of a run (uPlot): loss, and train/validation accuracy, one point per epoch.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EpochMetrics } from '../src/engines/engine.ts';

const BLUE = '#2563eb';
const ORANGE = '#ea580c';
const HEIGHT = 220;

interface Chart {
  plot: uPlot;
  columns: number[][];
}

function makeChart(el: HTMLElement, series: Array<{ label: string; stroke: string }>, percent: boolean): Chart {
  const opts: uPlot.Options = {
    width: Math.max(200, el.clientWidth),
    height: HEIGHT,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: percent ? { range: [0, 1] } : {} },
    axes: [
      // Whole epochs only on the x axis.
      { label: 'epoch', stroke: '#475569', grid: { stroke: '#e2e8f0' }, incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000] },
      { stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 50, values: percent ? (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) : undefined },
    ],
    series: [
      { label: 'epoch' },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.stroke,
        width: 2,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : percent ? `${(100 * v).toFixed(1)}%` : v.toFixed(4)),
      })),
    ],
  };
  const columns = [[], ...series.map(() => [])] as number[][];
  return { plot: new uPlot(opts, columns as uPlot.AlignedData, el), columns };
}

export class RunCharts {
  private readonly loss: Chart;
  private readonly accuracy: Chart;

  constructor(
    private readonly lossEl: HTMLElement,
    private readonly accuracyEl: HTMLElement,
  ) {
    this.loss = makeChart(lossEl, [
      { label: 'train loss', stroke: BLUE },
      { label: 'validation loss', stroke: ORANGE },
    ], false);
    this.accuracy = makeChart(accuracyEl, [
      { label: 'train accuracy', stroke: BLUE },
      { label: 'validation accuracy', stroke: ORANGE },
    ], true);
    new ResizeObserver(() => this.resize()).observe(lossEl.parentElement ?? lossEl);
  }

  /** Replaces the plotted history (a new run, or the history of a resumed one). */
  reset(history: EpochMetrics[] = []): void {
    for (const chart of [this.loss, this.accuracy]) for (const column of chart.columns) column.length = 0;
    for (const m of history) this.append(m, false);
    this.redraw();
  }

  add(m: EpochMetrics): void {
    this.append(m, true);
  }

  private append(m: EpochMetrics, redraw: boolean): void {
    const rows: Array<[Chart, number[]]> = [
      [this.loss, [m.epoch, m.loss, m.valLoss]],
      [this.accuracy, [m.epoch, m.trainAcc, m.valAcc]],
    ];
    for (const [chart, values] of rows) values.forEach((v, i) => chart.columns[i].push(v));
    if (redraw) this.redraw();
  }

  private redraw(): void {
    for (const el of [this.lossEl, this.accuracyEl]) el.classList.toggle('empty', this.loss.columns[0].length === 0);
    for (const chart of [this.loss, this.accuracy]) {
      chart.plot.setData(chart.columns as uPlot.AlignedData);
      // Without a cursor on the plot, the legend shows the newest epoch.
      const last = chart.columns[0].length - 1;
      if (last >= 0 && chart.plot.cursor.idx == null) chart.plot.setLegend({ idx: last });
    }
  }

  private resize(): void {
    this.loss.plot.setSize({ width: Math.max(200, this.lossEl.clientWidth), height: HEIGHT });
    this.accuracy.plot.setSize({ width: Math.max(200, this.accuracyEl.clientWidth), height: HEIGHT });
  }
}
