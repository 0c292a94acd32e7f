// The body of one pipeline stage thread: its own Dawn instance and device, a ThreadTransport to the other
// stages, and a PipeStage driven by the main thread's commands: 'plan' (stage 0: profile the model's
// blocks on this device and plan the stages), 'build' (this stage, from the plan), 'epoch', 'state' (its
// tensors for a checkpoint), and the shared 'stop' and 'crash' of thread-serve.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { ThreadTransport } from '../dist/thread-transport.ts';
import { pipeStageCount } from '../engines/pipe/pipe-options.ts';
import { buildStage, describePipe, planPipeline } from '../engines/pipe/pipe-run.ts';
import type { PipeStage } from '../engines/pipe/pipe-stage.ts';
import type { StagePlan } from '../engines/pipe/stage-plan.ts';
import { modelFactory } from './model-source.ts';
import { createNodeGpu } from './node-gpu.ts';
import type { PipeReply, PipeThreadData } from './pipe-threads.ts';
import { serveCommands } from './thread-serve.ts';

const thread = workerData as PipeThreadData;
const port = parentPort!;
const { rank, size } = thread.links;
const transport = new ThreadTransport(thread.links);
const gpu = await createNodeGpu({ name: thread.adapter, subgroups: thread.subgroups, label: `stage ${rank}` });
const replica = await modelFactory(thread.model);
let stage: PipeStage | null = null;

type Command = { type: 'plan' } | { type: 'build'; plan: StagePlan } | { type: 'epoch'; evaluate: boolean } | { type: 'state' };

async function handle(command: Command): Promise<PipeReply> {
  const { options, training, resume } = thread;
  switch (command.type) {
    case 'plan': {
      if (!thread.planning) throw new Error(`stage ${rank} was asked to plan the stages: only stage 0 holds the dataset to profile`);
      const stages = pipeStageCount(size, options.graphParallel);
      const plan = await planPipeline(gpu, replica(), thread.planning, thread.data.chunking, stages, options, training, resume);
      return { type: 'plan', plan, describe: describePipe(stages, options, plan, replica()) };
    }
    case 'build':
      stage = buildStage(gpu, transport, replica(), thread.data, command.plan, options, training, resume);
      return { type: 'built' };
    case 'epoch':
      return { type: 'epoch', result: await built().trainEpoch(command.evaluate) };
    case 'state':
      return { type: 'state', tensors: await built().stateTensors(), optimizer: built().optimizerState() };
  }
}

function built(): PipeStage {
  if (!stage) throw new Error(`stage ${rank}: not built yet (no plan received)`);
  return stage;
}

serveCommands(port, gpu, transport, (command) => handle(command as Command), () => stage?.dispose());
port.postMessage({ type: 'ready', device: gpu.report } satisfies PipeReply);
