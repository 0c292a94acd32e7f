// The Plan panel: the cost model behind `webgnn plan` (src/plan), run in the page. For a preset graph, a
// model, a mode, a device profile (the shipped ones) and a sweep of worker counts, it predicts each
// worker's peak memory, bytes sent per epoch and the epoch time, draws them against the worker count
// (uPlot, log scales, the counts that do not fit the device's memory shaded) and lists the rows and the
// plan's notes. Pure computation on the main thread, deferred by a timeout so the status paints first:
// modelled partitions take milliseconds, even over 1024 workers.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { parseDeviceProfile, type DeviceProfile } from '../src/plan/device-profile.ts';
import { modelCost, PLANNED_MODELS, type ModelSpec } from '../src/plan/model-cost.ts';
import { planGraph, type PlanResult } from '../src/plan/plan.ts';
import { formatBytes, type MemoryByKind, type PlanRow } from '../src/plan/plan-types.ts';
import { GRAPH_PRESETS } from '../src/plan/presets.ts';
import { $, errorText, input, numberField, select, setStatus } from './dom.ts';

const GIB = 2 ** 30;
const BLUE = '#2563eb';
const ORANGE = '#ea580c';
const GREEN = '#15803d';
const RED = '#b91c1c';
const NO_FIT = 'rgba(185, 28, 28, 0.09)';
const HEIGHT = 240;
const DEFAULT_WORKERS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** The largest worker count planned (a modelled plan has one row per worker: 65,536 take about 0.4 s). */
const MAX_WORKERS = 65_536;
/** At most this many worker counts in one sweep. */
const MAX_COUNTS = 64;
/** The profile chosen first: the browser tab's own, else a laptop GPU. */
const PREFERRED_PROFILES = ['browser-tab-swiftshader', 'nvidia-rtx-3060-laptop'];

const MODEL_NAMES: Record<string, string> = { gcn: 'GCN', sage: 'GraphSAGE', gat: 'GAT', gcnii: 'GCNII' };
const KIND_WORDS: Record<keyof MemoryByKind, string> = {
  graph: 'graph',
  features: 'features',
  activations: 'activations',
  remote_rows: 'remote rows',
  attention: 'attention',
  optimizer: 'weights + optimizer',
  node_memory: 'node memory',
  other: 'other',
};

/** Every shipped profile (profiles/*.json, bundled by Vite), parsed; a broken one is kept with its error. */
type ShippedProfile = { name: string; profile: DeviceProfile } | { name: string; error: string };

function shippedProfiles(): ShippedProfile[] {
  const files = import.meta.glob<unknown>('../profiles/*.json', { eager: true, import: 'default' });
  return Object.entries(files)
    .map(([path, json]): ShippedProfile => {
      const name = path.replace(/^.*\//, '').replace(/\.json$/, '');
      try {
        return { name, profile: parseDeviceProfile(json, `profiles/${name}.json`) };
      } catch (error) {
        return { name, error: errorText(error) };
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What the form asks for, checked; a bad field is refused naming it. */
interface PlanInputs {
  dataset: string;
  model: ModelSpec;
  mode: 'sar' | 'pipe';
  profile: DeviceProfile;
  profileName: string;
  linkName: string;
  /** Bytes each worker may fill when the field overrides the profile's. */
  memoryBytes: number | null;
  edgeCut: number | undefined;
  workers: number[];
}

/** A comma-separated list of worker counts, sorted and without repeats. */
function parseWorkerList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const bad = parts.find((p) => !/^\d+$/.test(p) || Number(p) < 1);
  if (!text.trim() || bad !== undefined) {
    throw new Error(`Workers must be a comma-separated list of positive integers (e.g. 1,2,4,8), got '${text}'${bad !== undefined && parts.length > 1 ? ` ('${bad}' is not one)` : ''}`);
  }
  const counts = [...new Set(parts.map(Number))].sort((a, b) => a - b);
  const big = counts.find((n) => n > MAX_WORKERS);
  if (big !== undefined) throw new Error(`Workers: at most ${MAX_WORKERS.toLocaleString('en')} per count, got ${big.toLocaleString('en')}`);
  if (counts.length > MAX_COUNTS) throw new Error(`Workers: at most ${MAX_COUNTS} worker counts in one sweep, got ${counts.length}`);
  return counts;
}

/** An optional number field: null when empty, else checked by `ok` and refused with `rule`. */
function optionalNumber(id: string, what: string, ok: (v: number) => boolean, rule: string): number | null {
  const el = input(id);
  // A number field holds '' for text that is not a number: that is not the same as left empty.
  if (el.validity.badInput) throw new Error(`${what} must be ${rule}, got text that is not a number`);
  const text = el.value.trim();
  if (text === '') return null;
  const v = Number(text);
  if (!Number.isFinite(v) || !ok(v)) throw new Error(`${what} must be ${rule}, got '${input(id).value}'`);
  return v;
}

export class PlanPanel {
  private readonly profiles = shippedProfiles();
  private charts: uPlot[] = [];
  private resize: ResizeObserver | null = null;
  /** Counts the runs, so that only the latest one shows its result. */
  private run = 0;

  constructor() {
    this.fillChoices();
    this.updateFields();
    $('plan-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.plan();
    });
    for (const id of ['plan-model', 'plan-mode']) select(id).addEventListener('change', () => this.updateFields());
    select('plan-device').addEventListener('change', () => this.fillLinks());
  }

  private fillChoices(): void {
    const datasets = select('plan-dataset');
    datasets.replaceChildren(
      ...Object.entries(GRAPH_PRESETS).map(([name, g]) => new Option(`${name} · ${g.nodes.toLocaleString('en')} nodes, ${(g.nnz / 2).toLocaleString('en')} edges`, name)),
    );
    datasets.value = GRAPH_PRESETS['ogbn-papers100M'] ? 'ogbn-papers100M' : datasets.options[0].value;
    select('plan-model').replaceChildren(...PLANNED_MODELS.map((kind) => new Option(MODEL_NAMES[kind] ?? kind, kind)));
    select('plan-model').value = PLANNED_MODELS.includes('sage') ? 'sage' : PLANNED_MODELS[0];
    const devices = select('plan-device');
    devices.replaceChildren(
      ...this.profiles.map((p) => {
        const option = new Option('profile' in p ? `${p.name} · ${formatBytes(p.profile.device.memory_bytes)}` : `${p.name} (unreadable)`, p.name);
        if ('error' in p) {
          option.disabled = true;
          option.title = p.error;
        }
        return option;
      }),
    );
    const usable = this.profiles.filter((p) => 'profile' in p).map((p) => p.name);
    devices.value = PREFERRED_PROFILES.find((n) => usable.includes(n)) ?? usable[0] ?? '';
    input('plan-workers').value = DEFAULT_WORKERS.join(',');
    this.fillLinks();
  }

  /** The chosen profile's links; the last one by default, as `webgnn plan` does. */
  private fillLinks(): void {
    const p = this.profiles.find((x) => x.name === select('plan-device').value);
    const links = select('plan-link');
    if (!p || !('profile' in p)) {
      links.replaceChildren();
      return;
    }
    const names = Object.keys(p.profile.links);
    links.replaceChildren(
      ...names.map((name) => {
        const l = p.profile.links[name];
        return new Option(`${name} · ${formatBytes(l.bandwidth_bytes_per_s)}/s, ${(l.latency_s * 1e6).toPrecision(3)} µs`, name);
      }),
    );
    links.value = names[names.length - 1];
    input('plan-memory').placeholder = `profile: ${(p.profile.device.memory_bytes / GIB).toFixed(p.profile.device.memory_bytes % GIB ? 2 : 0)}`;
  }

  /** Heads only for GAT, the edge cut only for SAR. */
  private updateFields(): void {
    input('plan-heads').disabled = select('plan-model').value !== 'gat';
    input('plan-edge-cut').disabled = select('plan-mode').value !== 'sar';
  }

  private readInputs(): PlanInputs {
    const dataset = select('plan-dataset').value;
    if (!GRAPH_PRESETS[dataset]) throw new Error(`Dataset: '${dataset}' is not a preset (${Object.keys(GRAPH_PRESETS).join(', ')})`);
    const kind = select('plan-model').value as ModelSpec['kind'];
    if (!PLANNED_MODELS.includes(kind)) throw new Error(`Model: '${kind}' has no cost description (planned: ${PLANNED_MODELS.join(', ')})`);
    const mode = select('plan-mode').value;
    if (mode !== 'sar' && mode !== 'pipe') throw new Error(`Mode must be 'sar' or 'pipe', got '${mode}'`);
    const dropout = optionalNumber('plan-dropout', 'Dropout', (v) => v >= 0 && v < 1, 'in [0, 1) (0: none)');
    if (dropout === null) throw new Error("Dropout must be in [0, 1) (0: none), got ''");
    const model: ModelSpec = {
      kind,
      layers: numberField('plan-layers', 'Layers', 'positive integer'),
      hidden: numberField('plan-hidden', 'Hidden units', 'positive integer'),
      heads: kind === 'gat' ? numberField('plan-heads', 'Heads', 'positive integer') : 1,
      dropout,
    };
    const profileName = select('plan-device').value;
    const shipped = this.profiles.find((p) => p.name === profileName);
    if (!shipped) throw new Error('Device: no device profile chosen (none shipped in profiles/ could be read)');
    if ('error' in shipped) throw new Error(`Device: ${shipped.error}`);
    const linkName = select('plan-link').value;
    if (!shipped.profile.links[linkName]) throw new Error(`Link: the profile '${profileName}' has links ${Object.keys(shipped.profile.links).join(', ')}, not '${linkName}'`);
    const memoryGiB = optionalNumber('plan-memory', 'Memory per worker (GiB)', (v) => v > 0, 'a positive number of GiB (empty: the profile’s)');
    const edgeCut = mode === 'sar' ? optionalNumber('plan-edge-cut', 'Edge cut', (v) => v >= 0 && v <= 1, 'a fraction of the edges in [0, 1] (empty: modelled)') ?? undefined : undefined;
    return {
      dataset,
      model,
      mode,
      profile: shipped.profile,
      profileName,
      linkName,
      memoryBytes: memoryGiB === null ? null : Math.round(memoryGiB * GIB),
      edgeCut,
      workers: parseWorkerList(input('plan-workers').value),
    };
  }

  /** Reads the form, then plans after the status has painted; a bad field or plan is shown in the panel. */
  plan(): void {
    const run = ++this.run;
    $('plan-panel').dataset.state = 'running';
    setStatus('plan-status', 'Planning…');
    input('plan-run').disabled = true;
    setTimeout(() => {
      if (run !== this.run) return;
      input('plan-run').disabled = false;
      try {
        const started = performance.now();
        const { inputs, result, clipped } = this.compute(this.readInputs());
        const ms = performance.now() - started;
        this.show(inputs, result);
        const rows = result.rows;
        const first = rows.findIndex((r) => r.fits);
        const fit =
          first < 0
            ? 'fits at none of these worker counts'
            : rows.slice(first).every((r) => r.fits)
              ? `fits from ${rows[first].workers} workers on`
              : `fits at ${rows.filter((r) => r.fits).map((r) => r.workers).join(', ')} workers`;
        setStatus('plan-status', `Planned ${rows.length} worker count${rows.length === 1 ? '' : 's'} in ${ms.toFixed(0)} ms: ${fit}.${clipped ? `\n${clipped}` : ''}`, 'ok');
        $('plan-panel').dataset.state = 'done';
      } catch (error) {
        this.clear();
        setStatus('plan-status', errorText(error), 'error');
        $('plan-panel').dataset.state = 'error';
      }
    }, 0);
  }

  /** The plan of the inputs, the sweep clipped to the pipeline's stages (one per layer) in pipe mode. */
  private compute(inputs: PlanInputs): { inputs: PlanInputs; result: PlanResult; clipped: string | null } {
    const graph = { ...GRAPH_PRESETS[inputs.dataset] };
    let clipped: string | null = null;
    let workers = inputs.workers;
    if (inputs.mode === 'pipe') {
      // A stage is a run of blocks ending at one with parameters (src/plan/pipe-cost.ts): at most one per layer.
      const layers = modelCost(inputs.model, graph.features, graph.classes).blocks.filter((b) => b.params > 0).length;
      const dropped = workers.filter((w) => w > layers);
      workers = workers.filter((w) => w <= layers);
      const why = `pipe runs at most one stage per layer with weights, and this model has ${layers}`;
      if (!workers.length) throw new Error(`Workers: ${why}: every count of ${inputs.workers.join(', ')} is above it`);
      if (dropped.length) clipped = `Workers clipped to ${layers}: ${why}; left out ${dropped.join(', ')}.`;
    }
    const device = inputs.memoryBytes === null ? inputs.profile : { ...inputs.profile, device: { ...inputs.profile.device, memory_bytes: inputs.memoryBytes } };
    const result = planGraph({
      graph,
      model: inputs.model,
      mode: inputs.mode,
      workers,
      cluster: { device, link: device.links[inputs.linkName], linkName: `${inputs.linkName} (${device.name})` },
      edgeCut: inputs.edgeCut,
    });
    const notes = [...result.notes];
    const profileMemory = formatBytes(inputs.profile.device.memory_bytes);
    notes.push(
      inputs.memoryBytes === null
        ? `memory per worker: ${profileMemory}, the profile's (profiles/${inputs.profileName}.json)`
        : `memory per worker: ${formatBytes(inputs.memoryBytes)} given here (the profile says ${profileMemory})`,
    );
    const m = inputs.model;
    notes.push(`model: ${MODEL_NAMES[m.kind] ?? m.kind}, ${m.layers} layers, ${m.hidden} hidden${m.kind === 'gat' ? `, ${m.heads} heads` : ''}, dropout ${m.dropout}; mode ${inputs.mode}`);
    if (inputs.edgeCut !== undefined) notes.push(`edge cut ${inputs.edgeCut} given here, for every worker count`);
    if (clipped) notes.push(clipped);
    return { inputs, result: { rows: result.rows, notes }, clipped };
  }

  private clear(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    this.resize?.disconnect();
    this.resize = null;
    for (const id of ['plan-memory-chart', 'plan-time-chart']) {
      $(id).classList.add('empty');
      $(id).dataset.points = '0';
    }
    $<HTMLTableElement>('plan-table').tBodies[0].replaceChildren();
    $('plan-notes').replaceChildren();
    $('plan-partitions').replaceChildren();
    $('plan-partitions-box').hidden = true;
  }

  private show(inputs: PlanInputs, result: PlanResult): void {
    this.clear();
    const rows = result.rows;
    const memoryBytes = inputs.memoryBytes ?? inputs.profile.device.memory_bytes;
    this.drawCharts(rows, memoryBytes);
    this.fillTable(rows);
    $('plan-notes').replaceChildren(...result.notes.map((n) => li(n)));
    const partitions = $('plan-partitions');
    partitions.replaceChildren(...rows.map((r) => li(`${r.workers} worker${r.workers === 1 ? '' : 's'}: ${r.partition}`)));
    $('plan-partitions-box').hidden = rows.length === 0;
  }

  private fillTable(rows: PlanRow[]): void {
    const body = $<HTMLTableElement>('plan-table').tBodies[0];
    body.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        tr.dataset.workers = String(r.workers);
        tr.dataset.peakBytes = String(r.peak_bytes_per_worker);
        tr.dataset.bytesSent = String(r.bytes_sent_per_worker_per_epoch);
        tr.dataset.epochS = String(r.epoch_s);
        tr.dataset.fits = String(r.fits);
        tr.classList.toggle('no-fit', !r.fits);
        const [kind, bytes] = (Object.entries(r.memory) as [keyof MemoryByKind, number][]).reduce((a, b) => (b[1] > a[1] ? b : a));
        const cells = [
          r.workers.toLocaleString('en'),
          formatBytes(r.peak_bytes_per_worker),
          `${KIND_WORDS[kind]} ${formatBytes(bytes)}`,
          formatBytes(r.bytes_sent_per_worker_per_epoch),
          seconds(r.compute_s),
          seconds(r.communication_s),
          seconds(r.overlap_s),
          seconds(r.epoch_s),
          r.fits ? 'yes' : 'no',
        ];
        for (const text of cells) {
          const td = document.createElement('td');
          td.textContent = text;
          tr.append(td);
        }
        if (r.shortfall) tr.lastElementChild!.setAttribute('title', r.shortfall);
        return tr;
      }),
    );
  }

  /** Two charts over the worker count (log2): memory and traffic in GiB with the device's memory, and epoch time. */
  private drawCharts(rows: PlanRow[], memoryBytes: number): void {
    const x = rows.map((r) => r.workers);
    // Log scales have no zero: one worker sends nothing, which leaves a gap.
    const positive = (v: number) => (v > 0 && Number.isFinite(v) ? v : null);
    const shade = noFitShading(rows.map((r) => r.fits));
    const memoryEl = $('plan-memory-chart');
    const timeEl = $('plan-time-chart');
    this.charts = [
      chart(memoryEl, x, [
        { label: 'peak memory / worker', stroke: BLUE, values: rows.map((r) => positive(r.peak_bytes_per_worker / GIB)) },
        { label: 'sent / worker / epoch', stroke: ORANGE, values: rows.map((r) => positive(r.bytes_sent_per_worker_per_epoch / GIB)) },
        { label: 'device memory', stroke: RED, dash: [6, 4], width: 1.5, points: false, values: rows.map(() => memoryBytes / GIB) },
      ], { format: gib, tick: gibTick }, shade),
      chart(timeEl, x, [{ label: 'epoch time', stroke: GREEN, values: rows.map((r) => positive(r.epoch_s)) }], { format: (v) => (v >= 60 ? `${seconds(v)} (${duration(v)})` : seconds(v)), tick: duration, ticks: DURATION_TICKS }, shade),
    ];
    for (const el of [memoryEl, timeEl]) {
      el.classList.remove('empty');
      el.dataset.points = String(rows.length);
    }
    const charts = this.charts;
    this.resize = new ResizeObserver(() => {
      charts[0]?.setSize({ width: width(memoryEl), height: HEIGHT });
      charts[1]?.setSize({ width: width(timeEl), height: HEIGHT });
    });
    this.resize.observe(memoryEl.parentElement ?? memoryEl);
  }
}

const li = (text: string) => {
  const el = document.createElement('li');
  el.textContent = text;
  return el;
};

const seconds = (s: number) =>
  s === 0 ? '0 s' : s < 1e-3 ? `${(s * 1e6).toPrecision(3)} µs` : s < 1 ? `${(s * 1e3).toPrecision(3)} ms` : `${Number(s.toPrecision(3)).toLocaleString('en')} s`;
/** A short duration for an axis tick: 1 ms, 10 s, 2.8 h, 116 d. */
const duration = (s: number) => {
  const short = (v: number, unit: string) => `${Number(v.toPrecision(2)).toLocaleString('en')} ${unit}`;
  if (s < 1e-3) return short(s * 1e6, 'µs');
  if (s < 1) return short(s * 1e3, 'ms');
  if (s < 60) return short(s, 's');
  if (s < 3600) return short(s / 60, 'min');
  if (s < 86_400) return short(s / 3600, 'h');
  return short(s / 86_400, 'd');
};
const gib = (v: number) => `${v < 0.01 ? v.toPrecision(2) : v < 10 ? v.toFixed(2) : v.toFixed(1)} GiB`;
const gibTick = (v: number) => `${Number(v.toPrecision(2)).toLocaleString('en')} GiB`;
const width = (el: HTMLElement) => Math.max(240, el.clientWidth);

interface Line {
  label: string;
  stroke: string;
  values: Array<number | null>;
  dash?: number[];
  width?: number;
  points?: boolean;
}

interface Axis {
  /** A value as the legend shows it. */
  format: (v: number) => string;
  /** A tick of the y axis. */
  tick: (v: number) => string;
  /** Where the y axis may have ticks (default: powers of ten). */
  ticks?: number[];
}

/** Of the `candidates` within [min, max], at most `most`: every step-th, counted from the largest. */
function thinTicks(candidates: number[], min: number, max: number, most: number): number[] {
  const inside = candidates.filter((t) => t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9));
  const step = Math.max(1, Math.ceil(inside.length / Math.max(1, most)));
  return inside.filter((_t, i) => (inside.length - 1 - i) % step === 0);
}

const powers = (base: number, from: number, to: number) => Array.from({ length: to - from + 1 }, (_v, i) => base ** (from + i));
/** Round durations for a time axis: powers of ten up to 10 s, then minutes, hours, days. */
const DURATION_TICKS = [...powers(10, -7, 1), 60, 600, 3600, 36_000, 86_400, 864_000, 8_640_000, 86_400_000];

/** A log10 range padded to whole decades, with a little room above and below the data. */
const decades = (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => {
  if (!(min > 0) || !(max > 0)) return [1, 10];
  return [10 ** Math.floor(Math.log10(min / 1.25)), 10 ** Math.ceil(Math.log10(max * 1.25))];
};

function chart(el: HTMLElement, x: number[], lines: Line[], axis: Axis, shade: uPlot.Plugin): uPlot {
  const opts: uPlot.Options = {
    width: width(el),
    height: HEIGHT,
    legend: { live: true },
    // Without a cursor on the plot, the legend shows the largest worker count.
    plugins: [shade, { hooks: { ready: [(u) => void (x.length && u.setLegend({ idx: x.length - 1 }))] } }],
    cursor: { drag: { x: false, y: false } },
    scales: {
      // Half a doubling either side, so that the first and last counts are not on the frame.
      x: { time: false, distr: 3, log: 2, range: (_u, min, max) => [min / Math.SQRT2, max * Math.SQRT2] },
      y: { distr: 3, log: 10, range: decades },
    },
    axes: [
      {
        label: 'workers',
        stroke: '#475569',
        grid: { stroke: '#e2e8f0' },
        // About one tick per 45 px.
        // uPlot's own filter of log ticks would drop all but some powers: the splits are already thinned.
        filter: (_u, splits) => splits,
        splits: (u) => {
          const most = Math.floor(u.bbox.width / devicePixelRatio / 45);
          // The sweep's own counts when they all fit, else powers of two.
          return thinTicks(x.length <= most ? x : powers(2, 0, 20), u.scales.x.min!, u.scales.x.max!, most);
        },
        values: (_u, ticks) => ticks.map((t) => (t == null ? '' : t.toLocaleString('en'))),
      },
      {
        stroke: '#475569',
        grid: { stroke: '#e2e8f0' },
        // Wide enough for the longest tick label.
        size: (_u, values) => 16 + 7 * Math.max(4, ...(values ?? []).map((v) => String(v ?? '').length)),
        filter: (_u, splits) => splits,
        splits: (u) => thinTicks(axis.ticks ?? powers(10, -9, 9), u.scales.y.min!, u.scales.y.max!, Math.floor(u.bbox.height / devicePixelRatio / 30)),
        values: (_u, ticks) => ticks.map((t) => (t == null ? '' : axis.tick(t))),
      },
    ],
    series: [
      { label: 'workers', value: (_u, v) => (v == null ? '–' : v.toLocaleString('en')) },
      ...lines.map((l) => ({
        label: l.label,
        stroke: l.stroke,
        width: l.width ?? 2,
        dash: l.dash,
        points: { show: l.points ?? true, size: 6 },
        value: (_u: uPlot, v: number | null | undefined) => (v == null ? '–' : axis.format(v)),
      })),
    ],
  };
  return new uPlot(opts, [x, ...lines.map((l) => l.values)] as uPlot.AlignedData, el);
}

/**
 * Shades, under the grid and lines, the span of every worker count that does not fit (from halfway to
 * its neighbour on each side, in the log scale), and writes "does not fit" over the first wide one.
 */
function noFitShading(fits: boolean[]): uPlot.Plugin {
  const spans = (u: uPlot): Array<[number, number]> => {
    const xs = u.data[0] as number[];
    const { left, width: w } = u.bbox;
    const pos = (v: number) => u.valToPos(v, 'x', true);
    return xs.flatMap((v, i): Array<[number, number]> => {
      if (fits[i]) return [];
      const from = i === 0 ? left : (pos(xs[i - 1]) + pos(v)) / 2;
      const to = i === xs.length - 1 ? left + w : (pos(v) + pos(xs[i + 1])) / 2;
      return [[from, to]];
    });
  };
  return {
    hooks: {
      drawClear: [
        (u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = NO_FIT;
          for (const [from, to] of spans(u)) ctx.fillRect(from, u.bbox.top, to - from, u.bbox.height);
          ctx.restore();
        },
      ],
      draw: [
        (u) => {
          const wide = spans(u).find(([from, to]) => to - from > 70 * devicePixelRatio);
          if (!wide) return;
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = RED;
          // uPlot leaves the alignment of its last axis label behind.
          ctx.textAlign = 'left';
          ctx.textBaseline = 'alphabetic';
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.fillText('does not fit', wide[0] + 6 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
          ctx.restore();
        },
      ],
    },
  };
}

/** The panel, wired, with the default plan drawn. */
export function setupPlanPanel(): PlanPanel {
  const panel = new PlanPanel();
  panel.plan();
  return panel;
}
