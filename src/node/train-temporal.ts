// `webgnn train-temporal`: TGN on a continuous-time event stream (link prediction), headless.
// The last line of stdout with --json is one JSON object (test_ap, test_auc, inductive_ap, events_per_s,
// staleness, peak_gpu_bytes_per_worker, …).

import cliProgress from 'cli-progress';
import { TemporalRunSummary } from '../engines/temporal-run-summary.ts';
import { parseStaleness } from '../engines/staleness-policy.ts';
import { TemporalEngine, type TemporalBatchProgress } from '../engines/temporal.ts';
import { HostNodeMemory } from '../nn/tgn/host-memory.ts';
import { Tgn } from '../nn/tgn/tgn.ts';
import { saveCheckpointFile } from './checkpoint-file.ts';
import { staticMemoryFor } from './static-memory-phase.ts';
import { bestEpochFields } from './temporal-summary.ts';
import { createNodeGpu } from './node-gpu.ts';
import { temporalResume, temporalWorkload } from './temporal-workload.ts';
import { refuseDistTglFlags, trainDistTgl } from './train-disttgl.ts';
import { trainTemporalRoom } from './temporal-room.ts';
import type { TrainTemporalFlags } from './train-temporal-flags.ts';

export type { TrainTemporalFlags } from './train-temporal-flags.ts';


export async function trainTemporal(flags: TrainTemporalFlags): Promise<void> {
  if (flags.room !== undefined || flags.elastic) return trainTemporalRoom(flags);
  if (flags.minMembers !== undefined || flags.name !== undefined) throw new Error('--min-members and --name are for rooms: add --room URL or --elastic');
  if (flags.workers > 1 || flags.parallel !== undefined) return trainDistTgl(flags);
  refuseDistTglFlags(flags);
  const staleness = parseStaleness(flags.staleness);
  const { stream, split, config } = await temporalWorkload(flags);
  const resume = await temporalResume(flags, config);
  // Phase one (its own device, freed before training starts), when static memory is asked for.
  const staticPhase = await staticMemoryFor(flags, stream, split, config);
  const gpu = await createNodeGpu({ name: flags.adapter });
  // The bar counts events of the whole run (training, validation and test passes of every epoch).
  const perEpoch = split.train.length + split.val.length + split.test.length;
  let epochBase = 0;
  const bar = flags.progress
    ? new cliProgress.SingleBar(
        { format: 'epoch {epoch}/{epochs} {phase} |{bar}| {percentage}% · loss {loss} · val AP {ap} · {eps} events/s', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const phaseBase = { train: 0, val: split.train.length, test: split.train.length + split.val.length };
  const onBatch = bar ? (p: TemporalBatchProgress) => bar.update(epochBase + phaseBase[p.phase] + p.done, { phase: p.phase }) : undefined;
  const options = { seed: flags.seed, lr: flags.lr, optimizer: flags.optimizer, weightDecay: flags.weightDecay, batchSize: flags.batchSize, sampler: flags.sampler, staleness, memory: flags.memory, metric: flags.metric, staticMemory: staticPhase?.table, onBatch };
  const engine = new TemporalEngine(gpu, new Tgn(config), stream, split, options, resume);
  epochBase = engine.currentEpoch * perEpoch;
  bar?.start(flags.epochs * perEpoch, epochBase, { epoch: engine.currentEpoch + 1, epochs: flags.epochs, phase: 'train', loss: '-', ap: '-', eps: '-' });
  const run = new TemporalRunSummary(flags.patience, flags.metric);
  run.stopping.restoreFrom(resume?.extra);
  for await (const m of engine.run(flags.epochs)) {
    const stop = run.add(m, '--lr');
    epochBase = m.epoch * perEpoch;
    bar?.update(epochBase, { epoch: Math.min(m.epoch + 1, flags.epochs), loss: m.loss.toFixed(4), ap: m.valAp.toFixed(4), eps: m.eventsPerSecond.toFixed(0) });
    if (!bar) {
      process.stderr.write(
        `epoch ${m.epoch}: loss ${m.loss.toFixed(4)} · val AP ${m.valAp.toFixed(4)} · test AP ${m.testAp.toFixed(4)}${m.testMrr === undefined ? '' : ` · test MRR ${m.testMrr.toFixed(4)}`} · inductive AP ${m.inductiveAp.toFixed(4)} · ${m.eventsPerSecond.toFixed(0)} events/s\n`,
      );
    }
    // The best validation epoch's state (weights, optimizer, memory): the checkpointed epoch is the reported one.
    const kept = flags.checkpoint ? await run.checkpointIfBest(engine) : null;
    if (kept) await saveCheckpointFile(flags.checkpoint!, kept);
    if (stop) {
      if (!bar) process.stderr.write(`early stop: no better validation AP for ${flags.patience} epochs (best at epoch ${run.best?.epoch})\n`);
      break;
    }
  }
  const { best, last } = run;
  const chosen = run.stalenessSummary;
  bar?.stop();
  const result = {
    dataset: stream.name,
    model: flags.model,
    mode: 'temporal',
    adapter: gpu.adapter.name,
    events: stream.numEvents,
    nodes: stream.numNodes,
    train_events: split.train.length,
    epochs: last?.epoch ?? 0,
    batch_size: flags.batchSize,
    sampler: flags.sampler,
    seed: flags.seed,
    lr: flags.lr,
    optimizer: flags.optimizer,
    weight_decay: flags.weightDecay,
    ...bestEpochFields(best, last, flags.metric, staticPhase),
    events_per_s: run.eventsPerSecond,
    memory: engine.memory instanceof HostNodeMemory ? 'host' : 'device',
    staleness_setting: staleness,
    // Chosen k per training iteration over the run (and the writes actually in flight when memory was fetched).
    staleness: { mean: chosen.mean, max: chosen.max, in_flight_mean: chosen.inFlightMean, stale_rows: chosen.staleRows },
    // The last epoch's training pass by stage (ms, CPU clock; 'wait' is time waiting for the device).
    stage_ms: last?.stageMs ?? null,
    peak_gpu_bytes_per_worker: [gpu.pool.peakAllocatedBytes],
    checkpoint: flags.checkpoint ?? null,
    // The epoch whose state the checkpoint holds: the best validation epoch (resuming continues from it).
    checkpoint_epoch: flags.checkpoint ? (best?.epoch ?? null) : null,
  };
  engine.dispose();
  gpu.destroy();
  if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    const f = (v: number | null) => (v === null ? '-' : v.toFixed(4));
    console.log(`TGN on ${stream.name} (${result.adapter}): test AP ${f(result.test_ap)}, AUC ${f(result.test_auc)}, inductive AP ${f(result.inductive_ap)} (best val epoch ${result.best_epoch}); ${result.events_per_s?.toFixed(0)} events/s`);
  }
}
