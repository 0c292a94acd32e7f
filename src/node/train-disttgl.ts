// `webgnn train-temporal --workers N --parallel i×j×k`: DistTGL over N trainers, each on its own device: in
// this process (linked in-process or by WebRTC) or one worker_thread each. `--epochs` counts passes over
// the training stream, as DistTGL does: one epoch of N trainers is j × k passes, so the run takes ⌈epochs / (j·k)⌉ of them and reports the
// passes it made. The last line of stdout with --json is one JSON object (train-temporal's fields, plus
// `parallel`, `passes` and traffic per trainer).

import cliProgress from 'cli-progress';
import { TemporalRunSummary } from '../engines/temporal-run-summary.ts';
import { createDistTglEngine } from '../engines/temporal/disttgl-run.ts';
import type { DistTglEpochMetrics } from '../engines/temporal/disttgl-engine.ts';
import { describeLayout, parseParallel } from '../engines/temporal/parallel-layout.ts';
import { Tgn } from '../nn/tgn/tgn.ts';
import { saveCheckpointFile } from './checkpoint-file.ts';
import { staticMemoryFor } from './static-memory-phase.ts';
import { bestEpochFields } from './temporal-summary.ts';
import { DistTglThreads } from './disttgl-threads.ts';
import { temporalResume, temporalWorkload } from './temporal-workload.ts';
import { checkWorkers, withInProcessRanks } from './node-links.ts';
import type { TrainTemporalFlags } from './train-temporal-flags.ts';

/** One trainer: the DistTGL flags must be at their defaults (they mean nothing without several trainers). */
export function refuseDistTglFlags(flags: TrainTemporalFlags): void {
  if (flags.transport !== 'local') throw new Error(`--transport ${flags.transport} links several trainers; with --workers 1 there is nothing to link`);
  if (flags.lrScaling !== 'linear') throw new Error('--lr-scaling scales the learning rate by the number of trainers; with --workers 1 it does not apply');
}

/** Flags of the sequential engine that DistTGL cannot honour, refused with the reason. */
function refuseSequentialFlags(flags: TrainTemporalFlags): void {
  if (flags.staleness !== '0') {
    throw new Error(
      "--staleness does not compose with --workers > 1: a DistTGL memory group's reads must follow the previous batch's write on its owner (that order is what makes epoch parallelism exact); MSPipe's stale reads would break it. Use --workers 1 for MSPipe",
    );
  }
  if (flags.memory !== undefined) throw new Error("--memory does not apply with --workers > 1: each memory group's node memory lives in host RAM with its owner (trainer g·i·j)");
}

export async function trainDistTgl(flags: TrainTemporalFlags): Promise<void> {
  checkWorkers(flags.workers);
  refuseSequentialFlags(flags);
  const layout = parseParallel(flags.parallel ?? 'memory', flags.workers);
  const { stream, split, config } = await temporalWorkload(flags);
  const resume = await temporalResume(flags, config);
  const staticPhase = await staticMemoryFor(flags, stream, split, config);
  const passesPerEpoch = layout.epoch * layout.memory;
  const epochs = Math.ceil(flags.epochs / passesPerEpoch);
  const options = { seed: flags.seed, lr: flags.lr, lrScaling: flags.lrScaling, optimizer: flags.optimizer, weightDecay: flags.weightDecay, batchSize: flags.batchSize, sampler: flags.sampler, metric: flags.metric, staticMemory: staticPhase?.table, layout };
  const { transport } = flags;
  const { engine } =
    transport === 'threads'
      ? await DistTglThreads.start({ stream, split, tgn: config, options, adapter: flags.adapter, resume }, flags.workers)
      : await withInProcessRanks(flags.workers, transport, { adapter: flags.adapter, role: 'trainer', room: 'disttgl' }, async ({ gpus, transports, release }) =>
          createDistTglEngine(gpus, transports, stream, split, () => new Tgn(config), options, release, resume),
        );
  const bar = flags.progress
    ? new cliProgress.SingleBar({ format: 'epoch {epoch}/{epochs} ({passes} passes) |{bar}| loss {loss} · val AP {ap} · {eps} events/s', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(epochs, engine.currentEpoch, { epoch: engine.currentEpoch + 1, epochs, passes: engine.currentEpoch * passesPerEpoch, loss: '-', ap: '-', eps: '-' });
  const run = new TemporalRunSummary(flags.patience, flags.metric);
  run.stopping.restoreFrom(resume?.extra);
  let last: DistTglEpochMetrics | null = null;
  try {
    for await (const m of engine.run(epochs)) {
      last = m;
      const stop = run.add(m, '--lr');
      bar?.update(m.epoch, { epoch: Math.min(m.epoch + 1, epochs), passes: m.passes, loss: m.loss.toFixed(4), ap: m.valAp.toFixed(4), eps: m.eventsPerSecond.toFixed(0) });
      if (!bar) {
        process.stderr.write(`epoch ${m.epoch} (${m.passes} passes): loss ${m.loss.toFixed(4)} · val AP ${m.valAp.toFixed(4)} · test AP ${m.testAp.toFixed(4)}${m.testMrr === undefined ? '' : ` · test MRR ${m.testMrr.toFixed(4)}`} · ${m.eventsPerSecond.toFixed(0)} events/s\n`);
      }
      // The best validation epoch's state (weights, optimizer, every group's memory): the checkpointed epoch is the reported one.
      const kept = flags.checkpoint ? await run.checkpointIfBest(engine) : null;
      if (kept) await saveCheckpointFile(flags.checkpoint!, kept);
      if (stop) {
        if (!bar) process.stderr.write(`early stop: no better validation AP for ${flags.patience} epochs (best at epoch ${run.best?.epoch})\n`);
        break;
      }
    }
  } finally {
    bar?.stop();
    await engine.dispose();
  }
  const best = run.best;
  const result = {
    dataset: stream.name,
    model: flags.model,
    mode: 'temporal',
    parallel: describeLayout(layout),
    workers: flags.workers,
    transport,
    adapter: engine.devices[0]?.adapter.name ?? null,
    events: stream.numEvents,
    nodes: stream.numNodes,
    train_events: split.train.length,
    epochs: last?.epoch ?? 0,
    passes: last?.passes ?? 0,
    passes_asked: flags.epochs,
    batch_size: flags.batchSize,
    sampler: flags.sampler,
    seed: flags.seed,
    lr: flags.lr,
    lr_scaling: flags.lrScaling,
    lr_per_step: flags.lrScaling === 'linear' ? flags.lr * flags.workers : flags.lr,
    optimizer: flags.optimizer,
    weight_decay: flags.weightDecay,
    ...bestEpochFields(best, last, flags.metric, staticPhase),
    best_passes: best ? best.epoch * passesPerEpoch : null,
    events_per_s: run.eventsPerSecond,
    events_per_s_per_trainer: last?.eventsPerSecondPerTrainer ?? null,
    memory: 'host',
    // The last epoch's traffic per trainer (gradients and metrics, plus memory reads and writes inside a group).
    bytes_sent_per_trainer_per_epoch: last?.bytesSentPerTrainer ?? null,
    memory_bytes_sent_per_trainer_per_epoch: last?.memoryBytesSentPerTrainer ?? null,
    peak_gpu_bytes_per_worker: last?.peakGpuBytes ?? null,
    checkpoint: flags.checkpoint ?? null,
    checkpoint_epoch: flags.checkpoint ? (best?.epoch ?? null) : null,
  };
  if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    const f = (v: number | null) => (v === null ? '-' : v.toFixed(4));
    console.log(
      `TGN on ${stream.name}, DistTGL ${result.parallel} (i×j×k) on ${flags.workers} trainers: test AP ${f(result.test_ap)}, AUC ${f(result.test_auc)}, inductive AP ${f(result.inductive_ap)} (best val after ${result.best_passes} passes of ${result.passes}); ${result.events_per_s?.toFixed(0)} events/s`,
    );
  }
}
