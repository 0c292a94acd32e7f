// `npm run bench`: webgnn beside TensorFlow.js's WebGPU backend on the same adapter, in one process.
//   node --import ./scripts/register.mjs bench/run.ts [--only matmul|gcn|spmm|gat[,…]] [--adapter NAME]
// Sections: adapters in use, dense matmul, GCN epoch on Cora (with webgnn's per-kernel profile),
// SpMM against a plain copy, fused vs unfused GAT attention, partitioner, transports, SAR, TGN under MSPipe,
// GNNPipe beside SAR (pipe: bytes per epoch, accuracy, epoch time and memory, tricks ablation; its
// expensive parts are chosen with PIPE_* environment variables, see bench/pipe-bench.ts). Prints a table and writes bench/results/latest.json.

import { createNodeGpu } from '../src/node/node-gpu.ts';
import { benchGcnEpoch, profileWebgnnEpoch } from './gcn-epoch-bench.ts';
import { benchGat, printGat } from './gat-bench.ts';
import { benchMatmul } from './matmul-bench.ts';
import { benchSpmm } from './spmm-bench.ts';
import {
  gatRows,
  gcnRows,
  machineInfo,
  matmulRows,
  printAdapters,
  printGcn,
  printMatmul,
  printSpmm,
  pipeRows,
  printTable,
  spmmRows,
  writeReport,
  type AdapterLine,
  type BenchReport,
  type Row,
} from './report.ts';
import { createTfjsWebGpu, type Tf } from './tfjs-webgpu.ts';
import { runPartitionBench } from './partition-bench.ts';
import { benchSarExactness } from './sar-exactness.ts';
import { runSarBench } from './sar-bench.ts';
import { benchTransports } from './transport-bench.ts';
import { runTgnBench } from './tgn-bench.ts';
import { runDistTglBench } from './disttgl-bench.ts';
import { runPlanBench } from './plan-bench.ts';
import { pipeBenchOptions, runPipeBench } from './pipe-bench.ts';

const SECTIONS = ['matmul', 'gcn', 'spmm', 'gat', 'partition', 'transport', 'sar', 'tgn', 'pipe', 'disttgl', 'plan'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `usage: npm run bench -- [--only ${SECTIONS.join('|')}[,…]] [--adapter lavapipe|swiftshader|<device name>]`;

function parseArgs(argv: string[]): { only: Set<Section>; adapter: string | undefined } {
  let only = new Set<Section>(SECTIONS);
  let adapter: string | undefined = process.env.WEBGNN_ADAPTER;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--only') {
      const names = value().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad.length || !names.length) throw new Error(`--only: unknown section ${bad.join(', ') || '(none)'}; sections: ${SECTIONS.join(', ')}\n${USAGE}`);
      only = new Set(names as Section[]);
    } else if (flag === '--adapter') {
      adapter = value();
    } else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return { only, adapter };
}

async function main(): Promise<void> {
  const { only, adapter } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machineStart = machineInfo();
  const gpu = await createNodeGpu({ name: adapter });
  const adapters: AdapterLine[] = [
    { runtime: 'webgnn', description: gpu.adapter.description, detail: `${gpu.adapter.name}, ${gpu.adapter.backend}, subgroups ${gpu.hasSubgroups ? 'on' : 'off'}` },
  ];

  let tf: Tf | null = null;
  if (only.has('matmul') || only.has('gcn')) {
    try {
      const t = await createTfjsWebGpu(gpu.adapter);
      tf = t.tf;
      adapters.push({ runtime: 'tfjs', description: t.adapter.description, detail: `tfjs-core ${tf.version_core}, backend ${tf.getBackend()}, Dawn flags ${t.flags.join(' ')}` });
    } catch (error) {
      console.log(`tfjs unavailable, webgnn figures only: ${(error as Error).message}`);
    }
  }
  console.log(`webgnn bench — ${machineStart.cpus} CPU cores, load average ${machineStart.load.join(' ')}, Node ${machineStart.node}`);
  if (machineStart.load[0] > machineStart.cpus) {
    console.log(`  note: the machine is busy (1-minute load ${machineStart.load[0]} > ${machineStart.cpus} cores); timings will be noisy`);
  }
  printAdapters(adapters);

  const report: BenchReport = {
    startedAt,
    seconds: 0,
    machine: { cpus: machineStart.cpus, loadAverageStart: machineStart.load, loadAverageEnd: [], node: machineStart.node },
    adapters,
    rows: [],
  };
  const rows: Row[] = [];

  if (only.has('matmul')) {
    const r = await benchMatmul(gpu, tf);
    printMatmul(r);
    rows.push(...matmulRows(r));
    report.matmul = r;
  }

  if (only.has('gcn')) {
    const r = await benchGcnEpoch(gpu, tf);
    gpu.pool.trim();
    // A second device with timestamp queries shows which kernels the epoch's time goes to.
    const profile = await profileWebgnnEpoch((profile) => createNodeGpu({ name: gpu.adapter.name, subgroups: gpu.hasSubgroups, profile })).catch(
      (error: Error) => {
        console.log(`(webgnn per-kernel profile unavailable: ${error.message})`);
        return null;
      },
    );
    printGcn(r, profile);
    rows.push(...gcnRows(r));
    report.gcn = { ...r, profile };
  }

  if (only.has('spmm')) {
    const r = await benchSpmm(gpu, {});
    printSpmm(r);
    rows.push(...spmmRows(r));
    report.spmm = r;
  }

  if (only.has('gat')) {
    const r = await benchGat(gpu);
    printGat(r);
    rows.push(...gatRows(r));
    report.gat = r;
  }

  if (only.has('partition')) {
    const r = await runPartitionBench({ numNodes: 200_000, numEdges: 3_800_000, communities: 64, parts: [2, 4, 8] });
    for (const row of r) {
      console.log(`partition ${row.graph} into ${row.parts}: edge cut ${row.multilevelCut} vs random ${row.randomCut} (${row.ratio.toFixed(3)}×), largest part ${row.maxLoad.toFixed(3)}× ideal, ${row.seconds.toFixed(2)} s`);
      rows.push({ who: 'webgnn', what: `edge cut, ${row.graph}, ${row.parts} parts`, figure: String(row.multilevelCut), ratio: `${row.ratio.toFixed(3)}× random`, goal: '≤ 0.3×', met: row.ratio <= 0.3 ? 'yes' : 'NO' });
    }
    report.partition = r;
  }

  if (only.has('transport')) {
    const r = await benchTransports();
    for (const t of r) {
      console.log(`transport ${t.transport}: 64 MiB in ${t.seconds.toFixed(3)} s = ${t.mibPerSecond.toFixed(0)} MiB/s`);
      rows.push({ who: 'webgnn', what: `64 MiB between two workers, ${t.transport}`, figure: `${t.mibPerSecond.toFixed(0)} MiB/s`, ratio: '', goal: '', met: '' });
    }
    report.transport = r;
  }

  if (only.has('sar')) {
    const exactness = [...(await benchSarExactness('gcn', 100, [2, 4])), ...(await benchSarExactness('sage', 100, [2, 4]))];
    for (const e of exactness) {
      rows.push({ who: 'webgnn', what: `SAR ${e.model} Cora loss, N=${e.workers} vs 1`, figure: e.maxRelativeLossDifference.toExponential(2), ratio: 'max rel diff', goal: '≤ 1e-5', met: e.maxRelativeLossDifference <= 1e-5 ? 'yes' : 'NO' });
    }
    const memory = await runSarBench({ nodes: 200_000, edges: 3_800_000, features: 128, hidden: 128, layers: 3, workers: [1, 2, 4, 8] });
    const base = memory.find((m) => m.workers === 1 && m.remat)!;
    for (const m of memory.filter((m) => m.remat)) {
      const baseline = memory.find((b) => b.workers === m.workers && !b.remat)!;
      const ratio = m.peakBytesPerWorker / base.peakBytesPerWorker;
      rows.push({
        who: 'webgnn',
        what: `SAR peak GPU bytes/worker, N=${m.workers} (no-remat ${(baseline.peakBytesPerWorker / 2 ** 20).toFixed(0)} MiB)`,
        figure: `${(m.peakBytesPerWorker / 2 ** 20).toFixed(0)} MiB`,
        ratio: `${ratio.toFixed(3)}× N=1`,
        goal: m.workers === 8 ? '≤ 0.2×' : '< no-remat',
        met: (m.workers === 8 ? ratio <= 0.2 : true) && (m.workers === 1 || m.peakBytesPerWorker < baseline.peakBytesPerWorker) ? 'yes' : 'NO',
      });
    }
    report.sar = { exactness, memory };
  }

  if (only.has('tgn')) {
    // Two epochs of CollegeMsg per setting (about 3 min each on a software adapter).
    const r = await runTgnBench({ epochs: 2, settings: ['device', '0', 'auto'], lr: 1e-4, batchSize: 200, seed: 0, adapter });
    const base = r.find((row) => row.setting === '0')!;
    for (const row of r) {
      const speedup = row.eventsPerSecond / base.eventsPerSecond;
      const apGap = row.testAp - base.testAp;
      rows.push({
        who: 'webgnn',
        what: `TGN CollegeMsg, ${row.memory} memory, staleness ${row.setting === 'device' ? 0 : row.setting} (k mean ${row.stalenessMean.toFixed(2)}): events/s, test AP ${row.testAp.toFixed(4)}, overlap bound ${row.overlapBound.toFixed(2)}×`,
        figure: row.eventsPerSecond.toFixed(0),
        ratio: `${speedup.toFixed(3)}× host k=0, AP ${apGap >= 0 ? '+' : ''}${apGap.toFixed(4)}`,
        goal: row.setting === 'auto' ? '≥ 1.5×, AP within 0.01' : '',
        met: row.setting === 'auto' ? (speedup >= 1.5 && Math.abs(apGap) <= 0.01 ? 'yes' : 'NO') : '',
      });
    }
    report.tgn = r;
  }

  if (only.has('disttgl')) {
    // The first 6,000 CollegeMsg events, 8 passes, N = 1 against 2 and 4 trainers of each parallelism, with MRR and static memory (the README's table).
    const r = await runDistTglBench({ events: 6000, passes: 8, workers: [2, 4], kinds: ['memory', 'epoch', 'batch'], batchSize: 200, lr: 2e-4, seed: 0, adapter, staticMemory: true, metric: 'mrr' });
    const base = r[0];
    for (const row of r.slice(1)) {
      const gap = row.bestTestAp - (row.staticMemory ? r.find((b) => b.workers === row.workers && b.layout === row.layout && !b.staticMemory)! : base).bestTestAp;
      rows.push({
        who: 'webgnn',
        what: `DistTGL ${row.layout}${row.staticMemory ? ' + static memory' : ''} (N=${row.workers}), CollegeMsg first 6,000 events, ${row.passes} passes: test AP ${row.bestTestAp.toFixed(4)}, MRR ${row.bestTestMrr?.toFixed(4) ?? '-'}, ${(row.bytesPerEpochPerTrainer[0] / 2 ** 20).toFixed(2)} MiB/epoch trainer 0`,
        figure: `${row.eventsPerSecond.toFixed(0)} events/s`,
        ratio: `AP ${gap >= 0 ? '+' : ''}${gap.toFixed(4)} vs ${row.staticMemory ? 'the same without static memory' : 'N=1'}`,
        goal: row.staticMemory ? '' : 'AP within 0.01',
        met: row.staticMemory ? '' : Math.abs(gap) <= 0.01 ? 'yes' : 'NO',
      });
    }
    report.disttgl = r;
  }

  if (only.has('pipe')) {
    // The figures unless PIPE_* variables choose fewer (bench/pipe-bench.ts); children per configuration.
    const r = await runPipeBench(pipeBenchOptions());
    rows.push(...pipeRows(r));
    report.pipe = r;
  }

  if (only.has('plan')) {
    // `webgnn plan` against what the engines measure here (goals: memory and bytes within 15 %, time within 2×)
    // and against the papers' tables (their hardware as published profiles; goals 30 % and 2×).
    const r = await runPlanBench();
    const ratio = (p: number, m: number) => (m ? p / m : p === 0 ? 1 : Infinity);
    for (const v of r.validation) {
      const mem = ratio(v.predicted.peakBytes, v.measured.peakBytes);
      const sent = ratio(v.predicted.bytesSent, v.measured.bytesSent);
      const time = ratio(v.predicted.epochSeconds, v.measured.epochSeconds);
      rows.push({
        who: 'webgnn',
        what: `plan vs measured: ${v.config} (peak ${(v.measured.peakBytes / 2 ** 20).toFixed(1)} MiB, sent ${(v.measured.bytesSent / 2 ** 20).toFixed(2)} MiB, epoch ${v.measured.epochSeconds.toFixed(3)} s)`,
        figure: `memory ${mem.toFixed(3)}×, bytes ${v.measured.bytesSent ? sent.toFixed(3) + '×' : '0 = 0'}, time ${time.toFixed(2)}×`,
        ratio: 'predicted / measured',
        goal: 'memory, bytes ±15 %; time within 2×',
        met: Math.abs(mem - 1) <= 0.15 && (v.measured.bytesSent === 0 ? v.predicted.bytesSent === 0 : Math.abs(sent - 1) <= 0.15) && time <= 2 && time >= 0.5 ? 'yes' : 'NO',
      });
    }
    for (const p of r.papers) {
      const time = p.quantity === 'epoch time';
      rows.push({ who: 'webgnn', what: `plan vs published: ${p.config}, ${p.quantity} (${p.note})`, figure: `${p.predicted} vs ${p.published}`, ratio: `${p.ratio.toFixed(2)}×`, goal: time ? 'within 2×' : '±30 %', met: (time ? p.ratio <= 2 && p.ratio >= 0.5 : Math.abs(p.ratio - 1) <= 0.3) ? 'yes' : 'NO' });
    }
    report.plan = r;
  }

  printTable(rows);
  report.rows = rows;
  report.seconds = Math.round((performance.now() - started) / 100) / 10;
  report.machine.loadAverageEnd = machineInfo().load;
  console.log(`\n${report.seconds} s; load average at the end ${report.machine.loadAverageEnd.join(' ')}; results in ${writeReport(report)}`);
  gpu.destroy();
}

try {
  await main();
  // tfjs's dawn.node instance lives for the whole process (see tfjs-webgpu.ts): end explicitly.
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
