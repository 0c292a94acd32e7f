// SAR with one worker_thread per worker: each thread opens its own Dawn instance and device and trains
// its partition; tensors move between threads over MessagePorts with their buffers transferred. The
// main thread only sends commands and collects metrics. A thread that dies is reported to the others
// (watchWorkers) so that they stop with an error naming it instead of waiting forever.

import { Worker } from 'node:worker_threads';
import { threadLinks, transferListFor, watchWorkers, type ThreadLinks } from '../dist/thread-transport.ts';
import { PeerError } from '../dist/transport.ts';
import type { Engine, EpochMetrics } from '../engines/engine.ts';
import { settleWorkers, toEpochMetrics } from '../engines/sar/sar-engine.ts';
import type { SarEpochResult } from '../engines/sar/sar-worker.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { NodePlacement } from '../graph/partition-blocks.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import type { DeviceReport } from '../gpu/gpu.ts';
import type { ModelSource } from './model-source.ts';

export interface SarThreadData {
  links: ThreadLinks;
  dataset: NodeDataset;
  placement: NodePlacement;
  /** What each thread rebuilds its replica of the model from. */
  model: ModelSource;
  training: NodeTrainingOptions;
  remat: boolean;
  adapter?: string;
  /** false: subgroup-free kernels even where the adapter has subgroups (--no-subgroups). */
  subgroups?: boolean;
  resume?: CheckpointData;
  describe: Record<string, unknown>;
}

type Reply =
  | { type: 'ready'; device: DeviceReport }
  | { type: 'stopped' }
  | { type: 'epoch'; result: SarEpochResult }
  | { type: 'snapshot'; data: CheckpointData }
  | { type: 'error'; name: string; message: string; peer?: number };

// From src/ (this file is .ts) the thread runs TypeScript through tsx's hooks; from the built package (dist/,
// .js) it runs the built entry with no hooks: scripts/ and tsx are not shipped.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const THREAD_EXEC_ARGV = FROM_SOURCES ? ['--import', new URL('../../scripts/register.mjs', import.meta.url).href] : [];
const ENTRY = new URL(FROM_SOURCES ? './sar-thread-entry.ts' : './sar-thread-entry.js', import.meta.url);

/** One thread and the replies it has not yet handed out. */
class ThreadHandle {
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private dead: Error | null = null;
  /** Settles when the thread has ended (its exit code). */
  readonly exited: Promise<number>;
  running = true;

  constructor(
    readonly rank: number,
    readonly worker: Worker,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', resolve)).then((code) => {
      this.running = false;
      return code as number;
    });
    worker.on('message', (reply: Reply) => {
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(reply);
    });
    worker.on('error', (error) => this.die(new Error(`worker ${rank}'s thread threw: ${error.message}`)));
    worker.on('exit', (code) => this.die(new PeerError(rank, rank, `its thread exited with code ${code}`)));
  }

  request(command: { type: string } | null): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      if (command) this.worker.postMessage(command);
    });
  }

  private die(error: Error): void {
    this.dead ??= error;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.dead);
  }
}

export class ThreadedSarEngine implements Engine {
  readonly mode = 'sar' as const;
  private epoch: number;

  private constructor(
    private readonly threads: ThreadHandle[],
    private readonly unwatch: () => void,
    startEpoch: number,
    /** Each worker's adapter, as its thread reported it when ready. */
    readonly devices: DeviceReport[],
  ) {
    this.epoch = startEpoch;
  }

  /** Threads not yet ended (0 once dispose() has settled). */
  get threadsRunning(): number {
    return this.threads.filter((t) => t.running).length;
  }

  get workers(): number {
    return this.threads.length;
  }

  static async start(options: Omit<SarThreadData, 'links'>): Promise<ThreadedSarEngine> {
    const size = options.placement.parts;
    const links = threadLinks(size);
    const workers = links.map(
      (l) =>
        new Worker(ENTRY, {
          execArgv: THREAD_EXEC_ARGV,
          workerData: { ...options, links: l } satisfies SarThreadData,
          transferList: transferListFor(l),
        }),
    );
    const unwatch = watchWorkers(workers, links);
    const threads = workers.map((w, rank) => new ThreadHandle(rank, w));
    let devices: DeviceReport[];
    try {
      devices = await Promise.all(threads.map((t) => t.request(null).then((r) => check(r, 'ready').device)));
    } catch (error) {
      unwatch();
      await stopThreads(threads);
      throw error;
    }
    return new ThreadedSarEngine(threads, unwatch, options.resume?.epoch ?? 0, devices);
  }

  /**
   * Test hook: worker `rank`'s thread exits mid-epoch, as a crash would. It exits from its own message
   * handler once no read from its device is pending: Worker.terminate() landing inside a dawn.node call,
   * or a thread ending with a mapAsync unsettled, aborts the whole process (dawn.node's node-addon-api
   * treats the failed throw as fatal), which is not a crash of one worker but of all of them.
   */
  kill(rank: number): Promise<number> {
    const { worker } = this.threads[rank];
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    worker.postMessage({ type: 'crash' });
    return exited;
  }

  async *run(epochs: number): AsyncGenerator<EpochMetrics> {
    while (this.epoch < epochs) {
      const replies = await settle(this.threads.map((t) => t.request({ type: 'epoch' })));
      this.epoch++;
      yield toEpochMetrics(this.epoch, replies.map((r) => check(r, 'epoch').result));
    }
  }

  async snapshot(): Promise<CheckpointData> {
    return check(await this.threads[0].request({ type: 'snapshot' }), 'snapshot').data;
  }

  /** Settles once every thread has freed its device and ended by itself (await it before process.exit()). */
  dispose(): Promise<void> {
    this.unwatch();
    return stopThreads(this.threads);
  }
}

/** How long a thread may take to end after 'stop' before it is terminated (a last resort: see stopThreads). */
const STOP_GRACE_MS = 60_000;

/**
 * Asks every thread to stop and waits for each to end by itself. Never Worker.terminate() first: landing
 * inside a dawn.node call (a buffer's destroy, say) it aborts the whole process with node-addon-api's
 * "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw"; so does process.exit() while a thread is
 * still tearing down, which is why callers await this. A thread still starting gets 'stop' once ready.
 */
async function stopThreads(threads: ThreadHandle[]): Promise<void> {
  await Promise.all(
    threads.map(async (t) => {
      if (!t.running) return;
      t.worker.postMessage({ type: 'stop' });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_GRACE_MS).unref()));
      if ((await Promise.race([t.exited, late])) === 'late') await t.worker.terminate();
      clearTimeout(timer);
    }),
  );
}

function check<T extends Reply['type']>(reply: Reply, type: T): Extract<Reply, { type: T }> {
  if (reply.type === 'error') {
    throw reply.name === 'PeerError' && reply.peer !== undefined ? Object.assign(new PeerError(reply.peer, -1, reply.message), { message: reply.message }) : new Error(reply.message);
  }
  if (reply.type !== type) throw new Error(`SAR thread: expected a '${type}' reply, got '${reply.type}'`);
  return reply as Extract<Reply, { type: T }>;
}

/** All replies, or the root cause when some thread failed (as for in-process workers). */
function settle(work: Promise<Reply>[]): Promise<Reply[]> {
  return settleWorkers(work.map((p) => p.then((reply) => (reply.type === 'error' ? check(reply, 'error') : reply))));
}
