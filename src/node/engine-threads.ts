// The main thread's side of an engine whose workers are worker_threads (SAR's workers, pipeline stages):
// one Worker per rank, linked to the others by threadLinks (ports transferred in workerData), watched so
// that a thread that dies is reported to the others (watchWorkers) and they stop with an error naming it
// instead of waiting forever; commands out, one reply at a time back; an orderly stop.

import { Worker } from 'node:worker_threads';
import { threadLinks, transferListFor, watchWorkers, type ThreadLinks } from '../dist/thread-transport.ts';
import { PeerError } from '../dist/transport.ts';
import { settleWorkers } from '../engines/sar/sar-engine.ts';
import type { DeviceReport } from '../gpu/gpu.ts';

/** What every thread may answer, besides its engine's own replies. */
export type BaseReply = { type: 'stopped' } | { type: 'error'; name: string; message: string; peer?: number };

// From src/ (this file is .ts) a thread runs TypeScript through tsx's hooks; from the built package (dist/,
// .js) it runs the built entry with no hooks: scripts/ and tsx are not shipped.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const THREAD_EXEC_ARGV = FROM_SOURCES ? ['--import', new URL('../../scripts/register.mjs', import.meta.url).href] : [];

/** The URL of a thread entry next to this file, by its name without the extension ('sar-thread-entry'). */
export function threadEntry(name: string): URL {
  return new URL(`./${name}${FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url);
}

/** One thread and the replies it has not yet handed out. */
export class EngineThread<Reply extends { type: string }> {
  private waiting: { resolve: (r: Reply | BaseReply) => void; reject: (e: Error) => void } | null = null;
  private dead: Error | null = null;
  /** Settles when the thread has ended (its exit code). */
  readonly exited: Promise<number>;
  running = true;

  constructor(
    readonly rank: number,
    readonly worker: Worker,
    /** What the engine calls its ranks in messages ('worker', 'stage'). */
    readonly role: string,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', resolve)).then((code) => {
      this.running = false;
      return code as number;
    });
    worker.on('message', (reply: Reply | BaseReply) => {
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(reply);
    });
    worker.on('error', (error) => this.die(new Error(`${role} ${rank}'s thread threw: ${error.message}`)));
    worker.on('exit', (code) => this.die(new PeerError(rank, rank, `its thread exited with code ${code}`)));
  }

  /** Sends `command` (null: none, just the next reply) and resolves to the thread's reply. */
  request(command: { type: string } | null): Promise<Reply | BaseReply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      if (command) this.worker.postMessage(command);
    });
  }

  /**
   * Test hook: this thread exits mid-epoch, as a crash would. It exits from its own message handler once
   * no read from its device is pending: Worker.terminate() landing inside a dawn.node call, or a thread
   * ending with a mapAsync unsettled, aborts the whole process (dawn.node's node-addon-api treats the
   * failed throw as fatal), which is not a crash of one worker but of all of them.
   */
  crash(): Promise<number> {
    const exited = new Promise<number>((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'crash' });
    return exited;
  }

  private die(error: Error): void {
    this.dead ??= error;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.dead);
  }
}

/** `size` threads running `entry`, rank r given `data(r)` beside its links, watched for deaths. */
export function startThreads<Reply extends { type: string }>(
  entry: URL,
  size: number,
  role: string,
  data: (rank: number) => Record<string, unknown>,
): { threads: EngineThread<Reply>[]; unwatch: () => void } {
  const links = threadLinks(size);
  const workers = links.map(
    (l, rank) =>
      new Worker(entry, {
        execArgv: THREAD_EXEC_ARGV,
        workerData: { ...data(rank), links: l },
        transferList: transferListFor(l),
      }),
  );
  const unwatch = watchWorkers(workers, links);
  return { threads: workers.map((w, rank) => new EngineThread<Reply>(rank, w, role)), unwatch };
}

export type { ThreadLinks };

/** How long a thread may take to end after 'stop' before it is terminated (a last resort: see stopThreads). */
const STOP_GRACE_MS = 60_000;

/**
 * Asks every thread to stop and waits for each to end by itself. Never Worker.terminate() first: landing
 * inside a dawn.node call (a buffer's destroy, say) it aborts the whole process with node-addon-api's
 * "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw"; so does process.exit() while a thread is
 * still tearing down, which is why callers await this. A thread still starting gets 'stop' once ready.
 */
export async function stopThreads<Reply extends { type: string }>(threads: EngineThread<Reply>[]): Promise<void> {
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

/** The reply of kind `type`, or the error the thread answered with (a PeerError keeps the peer at fault). */
export function checkReply<Reply extends { type: string }, T extends Reply['type']>(reply: Reply | BaseReply, type: T, what: string): Extract<Reply, { type: T }> {
  if (reply.type === 'error') {
    const e = reply as Extract<BaseReply, { type: 'error' }>;
    throw e.name === 'PeerError' && e.peer !== undefined ? Object.assign(new PeerError(e.peer, -1, e.message), { message: e.message }) : new Error(e.message);
  }
  if (reply.type !== type) throw new Error(`${what}: expected a '${type}' reply, got '${reply.type}'`);
  return reply as Extract<Reply, { type: T }>;
}

/** Every thread's reply of kind `type`, or the root cause when some thread failed (as for in-process workers). */
export function settleReplies<Reply extends { type: string }, T extends Reply['type']>(work: Promise<Reply | BaseReply>[], type: T, what: string): Promise<Extract<Reply, { type: T }>[]> {
  return settleWorkers(work.map((p) => p.then((reply) => checkReply<Reply, T>(reply, type, what))));
}

/**
 * What every engine over threads shares: its threads, started and watched, the devices they reported
 * when ready, the crash hook, and a dispose that lets every thread end by itself.
 */
export class ThreadedEngineBase<Reply extends { type: string }> {
  protected constructor(
    protected readonly threads: EngineThread<Reply>[],
    private readonly unwatch: () => void,
    /** Each worker's adapter, as its thread reported it when ready. */
    readonly devices: DeviceReport[],
  ) {}

  /**
   * Starts the threads and waits for each one's 'ready' (its device); `setup` then runs any further
   * start-up exchange. On a failure every thread is stopped before the error is thrown.
   */
  protected static async launch<Reply extends { type: string; device?: DeviceReport }, T>(
    entry: URL,
    size: number,
    role: string,
    what: string,
    data: (rank: number) => Record<string, unknown>,
    setup: (threads: EngineThread<Reply>[], devices: DeviceReport[]) => Promise<T>,
  ): Promise<{ threads: EngineThread<Reply>[]; unwatch: () => void; devices: DeviceReport[]; setup: T }> {
    const { threads, unwatch } = startThreads<Reply>(entry, size, role, data);
    try {
      const ready = await settleReplies<Reply, 'ready'>(threads.map((t) => t.request(null)), 'ready' as Reply['type'] & 'ready', what);
      const devices = ready.map((r) => (r as { device: DeviceReport }).device);
      return { threads, unwatch, devices, setup: await setup(threads, devices) };
    } catch (error) {
      unwatch();
      await stopThreads(threads);
      throw error;
    }
  }

  /** Threads not yet ended (0 once dispose() has settled). */
  get threadsRunning(): number {
    return this.threads.filter((t) => t.running).length;
  }

  get workers(): number {
    return this.threads.length;
  }

  /** Test hook: rank `rank`'s thread exits mid-epoch, as a crash would (EngineThread.crash). */
  kill(rank: number): Promise<number> {
    return this.threads[rank].crash();
  }

  /** Settles once every thread has freed its device and ended by itself (await it before process.exit()). */
  dispose(): Promise<void> {
    this.unwatch();
    return stopThreads(this.threads);
  }
}
