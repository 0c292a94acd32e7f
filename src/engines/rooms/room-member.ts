// One member of a training room: a tab, or a Node process (`webgnn join`), each with its own device. The room
// server decides who is in (room-protocol.ts); this class turns each membership — a generation — into a SAR
// run over WebRTC and keeps training through changes, as Horovod Elastic does:
//
//  1. A generation starts: links to its members (WebRtcTransport, signaled through the room), then the leader
//     (rank 0, the oldest member) partitions the graph over them and sends each its share and the room's last
//     commit (room-setup.ts). Every member restores that commit, so all resume from the same state.
//  2. Each epoch is SarWorker's epoch; then every member keeps an in-memory commit (weights, optimizer state,
//     epoch, history) and tells the server, which answers 'proceed' once the whole room has committed — or
//     regroups instead when someone joined (admitted here, at the boundary) or left.
//  3. A member lost mid-epoch (tab closed, process killed, network cut, dropped for misbehaving) fails the
//     others' exchanges or shows up as a new generation from the server; either way the survivors drop the
//     epoch in progress, report what they saw, and go back to 1 with the last commit.
//
// The leader needs the whole dataset to re-partition; its deputy (rank 1) gets a copy, so that losing the
// leader costs nothing but the epoch in progress. Losing both at once loses the data: the run stops, saying so.

import { PeerError, type Transport } from '../../dist/transport.ts';
import { RoomClient } from '../../dist/room-client.ts';
import type { RoomConfig, RoomEvent, RoomState } from '../../dist/room-protocol.ts';
import { connectWebRtc, type PeerConnectionConstructor, type WebRtcTransport } from '../../dist/webrtc-transport.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import { buildAdjacency } from '../../graph/csr.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import { partitionBlocks } from '../../graph/partition-blocks.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../../nn/checkpoint.ts';
import type { GraphModule } from '../../nn/graph-module.ts';
import type { EpochMetrics } from '../engine.ts';
import { placeForSar } from '../sar/placement.ts';
import { SarWorker, type SarEpochResult } from '../sar/sar-worker.ts';
import type { NodeTrainingOptions } from '../training-state.ts';
import { partitionFor } from '../sar/worker-partition.ts';
import { checkPipeOptions } from '../pipe/pipe-options.ts';
import { chunkGraph } from '../pipe/chunking.ts';
import { planPipeline } from '../pipe/pipe-run.ts';
import type { StagePlan } from '../pipe/stage-plan.ts';
import { PipeRoomWorker } from './pipe-room-worker.ts';
import { receivePipeSetup, sendPipeSetup } from './room-pipe-setup.ts';
import { announceHolding, gatherHoldings, receiveSetup, RoomSetupError, sendSetup } from './room-setup.ts';
import { roomTraining, type RoomTraining } from './room-training.ts';
import { receiveTemporalSetup, sendTemporalSetup } from './room-temporal-setup.ts';
import type { EventStream } from '../../graph/event-stream.ts';
import { requireEverySet, splitEvents } from '../../graph/temporal-split.ts';
import type { TemporalModel } from '../../nn/temporal-model.ts';
import { DistTglTrainer, type DistTglEpochResult } from '../temporal/disttgl-trainer.ts';

/** One epoch as a member saw it: the room's global metrics plus this member's own traffic and memory. */
export interface RoomEpoch extends EpochMetrics {
  generation: number;
  rank: number;
  /** Member ids of the generation, in rank order. */
  members: number[];
  bytesReceived: number[];
  /** Temporal rooms: link prediction's figures (their accuracy fields are NaN). */
  temporal?: RoomTemporalEpoch;
}

/** A temporal room's epoch: TGN's AP (and MRR when asked) from memory group 0, and the passes made so far. */
export interface RoomTemporalEpoch {
  valAp: number;
  testAp: number;
  valAuc: number;
  testAuc: number;
  inductiveAp: number;
  valMrr?: number;
  testMrr?: number;
  /** Passes over the training stream the room has made (each epoch: one per member). */
  passes: number;
  /** Training events per second of this member. */
  eventsPerSecond: number;
}

/** This member's share of the graph in one generation. */
export interface RoomPart {
  generation: number;
  rank: number;
  size: number;
  /** Nodes this member owns, of totalNodes. */
  nodes: number;
  totalNodes: number;
  /** Stored entries of its rows of the (undirected, self-looped) adjacency. */
  edges: number;
  /** Remote nodes its rows read (its halo). */
  halo: number;
  /** Setup time: links, partition and commit transfer (ms). */
  setupMs: number;
  /** Pipe rooms: the blocks [first, end) of the model this member's stage runs. */
  blocks?: [number, number];
  /** Temporal rooms: the memory group this member holds (its rank); `edges` counts the stream's events. */
  memoryGroup?: number;
}

export interface RoomSummary {
  /** Epochs the room committed. */
  epochs: number;
  /** The last epoch's metrics. */
  final: RoomEpoch | null;
  history: RoomEpoch[];
  /** Every membership change, from the server's log. */
  events: RoomEvent[];
  generations: number;
}

export interface RoomMemberEvents {
  state: RoomState;
  epoch: RoomEpoch;
  part: RoomPart;
  /** A line for a status bar: 'waiting for 2 more members', 'paused: …', 'training (generation 3)'. */
  status: string;
  /** A generation's transport, once linked (observability; tests use it to misbehave). */
  transport: { generation: number; rank: number; members: number[]; transport: WebRtcTransport };
  /** A persistent checkpoint is due (every checkpointEvery epochs, and at the end). */
  checkpoint: { epoch: number; data: CheckpointData };
}

export interface RoomMemberOptions {
  client: RoomClient;
  gpu: Gpu;
  /** Builds one replica of the room's model for a dataset's shape (called once per generation). */
  model: (shape: { numFeatures: number; numClasses: number }, training: RoomTraining) => GraphModule;
  /** The whole dataset, if this member holds it (the room's creator must). */
  dataset?: NodeDataset;
  /** Temporal rooms: builds one replica of TGN (or another TemporalModel) for the room's event stream. */
  temporalModel?: (shape: { numNodes: number; edgeDim: number }, training: RoomTraining) => TemporalModel;
  /** Temporal rooms: the whole event stream, if this member holds it (the room's creator must). */
  stream?: EventStream;
  /** Defaults to globalThis.RTCPeerConnection; in Node pass @roamhq/wrtc's. */
  RTCPeerConnection?: PeerConnectionConstructor;
  /** Continue the room's training from this checkpoint (the creator only). */
  resume?: CheckpointData;
  /** Time to link a generation's members (20 s). */
  connectTimeoutMs?: number;
  /** Largest message a peer may send (256 MiB). */
  maxMessageBytes?: number;
}

type Listeners = { [K in keyof RoomMemberEvents]: Set<(value: RoomMemberEvents[K]) => void> };

interface Commit {
  epoch: number;
  /** Weights, optimizer state and epoch; encoded only when a leader sends it. */
  data: CheckpointData;
  history: RoomEpoch[];
}

/** The run cannot go on (not a lost peer: those are recovered from). */
export class RoomRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoomRunError';
  }
}

/** This member's place in one generation. */
interface GenerationInfo {
  generation: number;
  rank: number;
  members: number[];
  /** When the generation started (ms, performance.now()). */
  started: number;
}

/** What trains one generation on this member: a SAR partition or a pipeline stage. */
interface GenerationWorker {
  readonly currentEpoch: number;
  /** One epoch; the room's metrics, the same on every member (with this member's own memory and traffic). */
  trainEpoch(): Promise<RoomEpoch>;
  /** The whole model's training state, the same on every member. */
  snapshot(extra: Record<string, unknown>): Promise<CheckpointData>;
  dispose(): void;
}

/** Why a generation ended early: the room regrouped, or a peer failed (then reported to the server). */
class GenerationOver extends Error {}

/** The generation's links did not all open (a member gone, or too slow): the room retries or regroups. */
class LinkError extends Error {}

export class RoomMember {
  readonly training: RoomTraining;
  /** Every committed epoch the room has trained (late joiners receive the earlier ones with the commit). */
  history: RoomEpoch[] = [];
  private readonly listeners: Listeners = { state: new Set(), epoch: new Set(), part: new Set(), status: new Set(), transport: new Set(), checkpoint: new Set() };
  private dataset: NodeDataset | null;
  private stream: EventStream | null;
  /** The room's last commit as this member holds it. */
  private confirmed: Commit | null = null;
  private generations = 0;
  private stopped = false;
  private readonly offState: () => void;

  constructor(private readonly options: RoomMemberOptions) {
    this.training = roomTraining(options.client.config);
    this.dataset = options.dataset ?? null;
    this.stream = options.stream ?? null;
    const held = this.dataset ?? this.stream;
    if (held && held.name !== this.training.dataset) {
      throw new RoomRunError(`the room trains on ${this.training.dataset}, this member holds ${held.name}`);
    }
    if (this.training.mode === 'temporal' ? this.dataset : this.stream) {
      throw new RoomRunError(this.training.mode === 'temporal' ? 'a temporal room trains on an event stream; this member holds a node dataset' : `a ${this.training.mode} room trains on a node dataset; this member holds an event stream`);
    }
    if (this.training.mode === 'temporal' && !options.temporalModel) throw new RoomRunError('a temporal room needs a temporalModel builder (the environment gives TGN)');
    if (options.resume) {
      const r = options.resume;
      this.confirmed = { epoch: r.epoch, data: r, history: historyOf(r) };
      this.history = this.confirmed.history;
    }
    this.offState = options.client.onState((state) => {
      this.emit('state', state);
      this.emit('status', describeState(state, options.client.id));
    });
  }

  get id(): number {
    return this.options.client.id;
  }

  on<K extends keyof RoomMemberEvents>(kind: K, listener: (value: RoomMemberEvents[K]) => void): () => void {
    this.listeners[kind].add(listener);
    return () => this.listeners[kind].delete(listener);
  }

  /** Trains until the room finishes; resolves with the summary, rejects if the run cannot go on. */
  async run(): Promise<RoomSummary> {
    const { client } = this.options;
    let last = 0;
    try {
      const first = client.state;
      if (first) this.emit('status', describeState(first, client.id));
      for (;;) {
        const state = await client.waitForState((s) => s.phase === 'finished' || (s.phase === 'training' && s.generation > last && s.members.some((m) => m.id === client.id)));
        if (state.phase === 'finished') break;
        last = state.generation;
        const finished = await this.runGeneration(state);
        if (finished) {
          await client.waitForState((s) => s.phase === 'finished');
          break;
        }
      }
    } finally {
      this.offState();
    }
    return { epochs: this.confirmed?.epoch ?? 0, final: this.history.at(-1) ?? null, history: this.history, events: client.state?.events ?? [], generations: this.generations };
  }

  /** Leaves the room (orderly: the others regroup at once). */
  async leave(): Promise<void> {
    this.stopped = true;
    await this.options.client.leave();
  }

  /** One generation; true when the room's training is complete. */
  private async runGeneration(state: RoomState): Promise<boolean> {
    const { client, gpu } = this.options;
    const generation = state.generation;
    const members = state.members.map((m) => m.id);
    const rank = members.indexOf(client.id);
    const size = members.length;
    this.generations++;
    const started = performance.now();
    this.emit('status', `linking ${size} member${size === 1 ? '' : 's'} (generation ${generation})`);

    let transport: WebRtcTransport | null = null;
    let worker: GenerationWorker | null = null;
    // A new generation from the server ends this one wherever it stands.
    let regrouped: RoomState | null = null;
    const offState = client.onState((s) => {
      if (s.generation === generation || regrouped) return;
      regrouped = s;
      transport?.abort(`the room regrouped (generation ${s.generation})`);
    });
    try {
      transport = await connectWebRtc({
        rank,
        size,
        signaling: client.port(generation, members),
        RTCPeerConnection: this.options.RTCPeerConnection,
        timeoutMs: this.options.connectTimeoutMs ?? 20_000,
        limits: { maxMessageBytes: this.options.maxMessageBytes ?? 256 * 1024 * 1024 },
      }).catch((e: Error) => {
        throw new LinkError(e.message);
      });
      if (regrouped) throw new GenerationOver();
      this.emit('transport', { generation, rank, members, transport });

      // The commit everyone resumes from is the room's: the server's committedEpoch.
      if (this.confirmed && state.committedEpoch > 0 && this.confirmed.epoch !== state.committedEpoch && rank === 0) {
        throw new RoomRunError(`this member's commit is of epoch ${this.confirmed.epoch}, the room committed ${state.committedEpoch}`);
      }
      const info: GenerationInfo = { generation, rank, members, started };
      const { mode } = this.training;
      worker = mode === 'pipe' ? await this.pipeWorker(transport, state, info) : mode === 'temporal' ? await this.temporalWorker(transport, state, info) : await this.sarWorker(transport, state, info);
      this.emit('status', `training (generation ${generation}, rank ${rank} of ${size})`);

      while (worker.currentEpoch < this.training.epochs) {
        const metrics = await worker.trainEpoch();
        const leftover = transport.refuseUnclaimed(`the end of epoch ${worker.currentEpoch}`);
        if (leftover) throw leftover;
        const epoch = worker.currentEpoch;
        const snapshot = await worker.snapshot({ room: { generation, members: size } });
        const pending: Commit = { epoch, data: snapshot, history: [...this.history, metrics] };
        snapshot.extra = { ...(snapshot.extra ?? {}), history: pending.history };
        client.commit(generation, epoch);
        const answer = await client.waitForProceed(generation, epoch);
        // Committed by the whole room: either 'proceed', or a regroup that the server made at this boundary.
        const committed = answer === 'proceed' || answer.committedEpoch === epoch;
        if (committed) {
          this.confirmed = pending;
          this.history = pending.history;
          this.emit('epoch', metrics);
          if (this.due(epoch)) this.emit('checkpoint', { epoch, data: snapshot });
        }
        if (answer !== 'proceed') {
          regrouped = answer;
          throw new GenerationOver();
        }
      }
      if (rank === 0) client.finish(generation, worker.currentEpoch);
      return true;
    } catch (error) {
      if (this.stopped) throw new RoomRunError('left the room');
      if (error instanceof RoomRunError) throw error;
      if (regrouped || error instanceof GenerationOver) return false;
      const peerError = error instanceof PeerError ? error : (transport?.failure ?? null);
      if (peerError) {
        const culprit = peerError.peer !== rank ? members[peerError.peer] : undefined;
        this.emit('status', `generation ${generation} failed: ${peerError.reason}; waiting for the room to regroup`);
        // Ranks mean nothing outside this generation: the room hears member ids.
        const blamed = members[peerError.peer] !== undefined ? `member ${members[peerError.peer]}` : `rank ${peerError.peer}`;
        client.failed(generation, (worker?.currentEpoch ?? state.committedEpoch) + 1, `${blamed} failed, as member ${client.id} saw it: ${peerError.reason}`, culprit);
        return false;
      }
      if (!client.isOpen) throw client.closedBy ?? new RoomRunError('the connection to the room server ended');
      // A peer's setup message was wrong (it is blamed), or the links never all opened: the generation failed.
      if (error instanceof RoomSetupError || error instanceof LinkError) {
        const culprit = error instanceof RoomSetupError && error.from !== rank ? members[error.from] : undefined;
        client.failed(generation, state.committedEpoch + 1, error.message, culprit);
        return false;
      }
      throw error;
    } finally {
      offState();
      if (worker) {
        await gpu.waits.whenIdle();
        worker.dispose();
      }
      if (transport && regrouped) transport.closeGraceMs = 250;
      await transport?.close();
    }
  }

  /** SAR: this member's partition, and a SarWorker over it from the room's commit. */
  private async sarWorker(transport: Transport, state: RoomState, g: GenerationInfo): Promise<GenerationWorker> {
    const { placement, partition, commit } = await this.setUp(transport, g.rank, g.members.length, state);
    this.adopt(commit);
    const model = this.options.model({ numFeatures: partition.numFeatures, numClasses: partition.numClasses }, this.training);
    const sar = new SarWorker(this.options.gpu, transport, partition, placement, model, nodeTraining(this.training), { remat: true }, commit?.data);
    this.emit('part', partInfo(partition, placement, g.rank, g.generation, performance.now() - g.started));
    return {
      get currentEpoch() {
        return sar.currentEpoch;
      },
      trainEpoch: async () => {
        const r = await sar.trainEpoch();
        return roomEpoch(sar.currentEpoch, r, g);
      },
      snapshot: (extra) => sar.snapshot(extra),
      dispose: () => sar.dispose(),
    };
  }

  /**
   * Pipe: the leader plans the stages over this generation (its device's profile of the model) and sends
   * every member the whole dataset, the plan and the commit; each member then runs its stage.
   */
  private async pipeWorker(transport: Transport, state: RoomState, g: GenerationInfo): Promise<GenerationWorker> {
    const { gpu } = this.options;
    const size = g.members.length;
    const training = nodeTraining(this.training);
    let dataset: NodeDataset;
    let plan: StagePlan;
    let commit: Commit | null;
    if (g.rank === 0) {
      dataset = this.leaderDataset(state);
      commit = this.confirmed;
      this.emit('status', `planning ${size} pipeline stage${size === 1 ? '' : 's'} over ${dataset.name}`);
      checkPipeOptions(this.training.pipe, dataset.numNodes);
      const shape = { numFeatures: dataset.numFeatures, numClasses: dataset.numClasses };
      plan = await planPipeline(gpu, this.options.model(shape, this.training), dataset, chunkGraph(dataset, this.training.pipe.chunks, training.seed), size, this.training.pipe, training, commit?.data);
      const sent = outgoingCommit(commit, size);
      await Promise.all(Array.from({ length: size - 1 }, (_, i) => sendPipeSetup(transport, i + 1, dataset, plan, sent)));
    } else {
      this.emit('status', 'receiving the dataset and this member’s stage');
      const setup = await receivePipeSetup(transport, this.training.dataset);
      commit = incomingCommit(setup, state);
      dataset = setup.dataset;
      this.dataset = dataset;
      plan = setup.plan;
    }
    this.adopt(commit);
    const model = this.options.model({ numFeatures: dataset.numFeatures, numClasses: dataset.numClasses }, this.training);
    const pipe = new PipeRoomWorker(gpu, transport, model, dataset, plan, this.training.pipe, training, this.training.epochs, commit?.data);
    const range = plan.stages[g.rank];
    this.emit('part', { generation: g.generation, rank: g.rank, size, nodes: dataset.numNodes, totalNodes: dataset.numNodes, edges: dataset.edgeSrc.length, halo: 0, setupMs: performance.now() - g.started, blocks: [range.first, range.end] });
    return {
      get currentEpoch() {
        return pipe.currentEpoch;
      },
      trainEpoch: async () => {
        const { metrics, own } = await pipe.trainEpoch();
        return { ...metrics, ...memberFields(own, g) };
      },
      snapshot: (extra) => pipe.snapshot(extra),
      dispose: () => pipe.dispose(),
    };
  }

  /**
   * Temporal (DistTGL across members): the leader sends every member the whole event stream and the commit;
   * each member is then one memory group (memory parallelism: tabs share gradients, never memory). A room
   * re-formed over other members re-forms the groups: the commit's weights and optimizer state, every
   * group's memory from zero where its walk stands.
   */
  private async temporalWorker(transport: Transport, state: RoomState, g: GenerationInfo): Promise<GenerationWorker> {
    const size = g.members.length;
    let stream: EventStream;
    let commit: Commit | null;
    if (g.rank === 0) {
      stream = this.leaderStream(state);
      commit = this.confirmed;
      const sent = outgoingCommit(commit, size);
      await Promise.all(Array.from({ length: size - 1 }, (_, i) => sendTemporalSetup(transport, i + 1, stream, sent)));
    } else {
      this.emit('status', 'receiving the event stream');
      const setup = await receiveTemporalSetup(transport, this.training.dataset);
      commit = incomingCommit(setup, state);
      stream = setup.stream;
      this.stream = stream;
    }
    this.adopt(commit);
    const t = this.training;
    const split = splitEvents(stream, { seed: t.seed });
    requireEverySet(split, stream);
    const model = this.options.temporalModel!({ numNodes: stream.numNodes, edgeDim: stream.edgeDim }, t);
    const options = {
      seed: t.seed,
      lr: t.lr,
      lrScaling: t.temporal.lrScaling,
      optimizer: t.optimizer,
      weightDecay: t.weightDecay,
      batchSize: t.temporal.batchSize,
      sampler: t.temporal.sampler,
      metric: t.temporal.metric,
      layout: { batch: 1, epoch: 1, memory: size },
      shareEvaluation: true,
    };
    const trainer = new DistTglTrainer(this.options.gpu, transport, model, stream, split, options, commit?.data, 'weights');
    this.emit('part', { generation: g.generation, rank: g.rank, size, nodes: stream.numNodes, totalNodes: stream.numNodes, edges: stream.numEvents, halo: 0, setupMs: performance.now() - g.started, memoryGroup: g.rank });
    return {
      get currentEpoch() {
        return trainer.currentEpoch;
      },
      trainEpoch: async () => temporalRoomEpoch(trainer.currentEpoch + 1, await trainer.trainEpoch(), g),
      snapshot: (extra) => trainer.weightsCheckpoint(extra),
      dispose: () => trainer.dispose(),
    };
  }

  /** The whole event stream, which a temporal room's leader must hold (every member receives it). */
  private leaderStream(state: RoomState): EventStream {
    if (!this.stream) throw new RoomRunError(`member ${this.id} leads the room but does not hold its event stream: every member that held it has left`);
    if (!this.confirmed && state.committedEpoch > 0) {
      throw new RoomRunError(`the room committed ${state.committedEpoch} epochs, but every member that held the commit has left: the training state is lost`);
    }
    return this.stream;
  }

  /** The room's commit, as this generation starts from it. */
  private adopt(commit: Commit | null): void {
    if (!commit) return;
    this.confirmed = commit;
    this.history = commit.history;
  }

  /** The whole dataset, which a leader must hold (and, after a loss, the room's commit with it). */
  private leaderDataset(state: RoomState): NodeDataset {
    const dataset = this.dataset;
    if (!dataset) {
      throw new RoomRunError(`member ${this.id} leads the room but does not hold the dataset: the leader and its deputy were both lost, and with them the room's data`);
    }
    if (!this.confirmed && state.committedEpoch > 0) {
      throw new RoomRunError(`the room committed ${state.committedEpoch} epochs, but every member that held the commit has left: the training state is lost`);
    }
    return dataset;
  }

  /** Links done: the leader sends every share and the commit; the others receive theirs. */
  private async setUp(transport: Transport, rank: number, size: number, state: RoomState) {
    if (rank !== 0) {
      await announceHolding(transport, this.dataset !== null);
      this.emit('status', 'receiving this member’s partition');
      const setup = await receiveSetup(transport, this.training.dataset);
      if (setup.dataset) this.dataset = setup.dataset;
      const commit = incomingCommit(setup, state);
      return { placement: setup.placement, partition: setup.partition, commit };
    }
    const dataset = this.leaderDataset(state);
    this.emit('status', `partitioning ${dataset.name} over ${size} member${size === 1 ? '' : 's'}`);
    const holds = await gatherHoldings(transport);
    const { placement } = placeForSar(dataset, size, 'metis', this.training.seed);
    const commit = this.confirmed;
    const sent = outgoingCommit(commit, size);
    await Promise.all(
      Array.from({ length: size - 1 }, (_, i) => sendSetup(transport, i + 1, dataset, placement, sent, i + 1 === 1 && !holds[1])),
    );
    return { placement, partition: partitionFor(dataset, placement, 0), commit };
  }

  private due(epoch: number): boolean {
    const every = this.training.checkpointEvery;
    return epoch === this.training.epochs || (every > 0 && epoch % every === 0);
  }

  private emit<K extends keyof RoomMemberEvents>(kind: K, value: RoomMemberEvents[K]): void {
    for (const listener of [...this.listeners[kind]]) listener(value);
  }
}

function nodeTraining(t: RoomTraining): NodeTrainingOptions {
  return { optimizer: t.optimizer, lr: t.lr, weightDecay: t.weightDecay, seed: t.seed, decayFirstLayerOnly: t.decayFirstLayerOnly };
}

function roomEpoch(epoch: number, r: SarEpochResult, g: GenerationInfo): RoomEpoch {
  return { epoch, loss: r.loss, valLoss: r.valLoss, trainAcc: r.trainAcc, valAcc: r.valAcc, testAcc: r.testAcc, epochMs: r.epochMs, ...memberFields(r, g) };
}

/** What every room epoch says of this member: its memory and traffic, and its place in the generation. */
function memberFields(
  own: { peakGpuBytes: number; gpuBytes: number; bytesSent: number; bytesReceived: number },
  g: GenerationInfo,
): Pick<RoomEpoch, 'peakGpuBytes' | 'gpuBytes' | 'bytesSent' | 'bytesReceived' | 'generation' | 'rank' | 'members'> {
  return {
    peakGpuBytes: [own.peakGpuBytes],
    gpuBytes: [own.gpuBytes],
    bytesSent: [own.bytesSent],
    bytesReceived: [own.bytesReceived],
    generation: g.generation,
    rank: g.rank,
    members: g.members,
  };
}

function temporalRoomEpoch(epoch: number, r: DistTglEpochResult, g: GenerationInfo): RoomEpoch {
  const e = r.evaluation!;
  return {
    epoch,
    loss: r.loss,
    valLoss: NaN,
    trainAcc: NaN,
    valAcc: NaN,
    testAcc: NaN,
    epochMs: r.epochMs,
    ...memberFields(r, g),
    temporal: { valAp: e.valAp, testAp: e.testAp, valAuc: e.valAuc, testAuc: e.testAuc, inductiveAp: e.inductiveAp, valMrr: e.valMrr, testMrr: e.testMrr, passes: r.passes, eventsPerSecond: r.ownEvents / (r.trainMs / 1000) },
  };
}

/** The commit a leader sends, encoded once for every member that receives it (none when alone or without one). */
function outgoingCommit(commit: Commit | null, size: number): { bytes: Uint8Array; epoch: number } | null {
  return commit && size > 1 ? { bytes: encodeCheckpoint(commit.data), epoch: commit.epoch } : null;
}

/** The commit a member received, checked against the room's committed epoch and decoded with its history. */
function incomingCommit(setup: { commit: Uint8Array | null; commitEpoch: number }, state: RoomState): Commit | null {
  if (setup.commit && state.committedEpoch > 0 && setup.commitEpoch !== state.committedEpoch) {
    throw new RoomSetupError(0, `a commit of epoch ${setup.commitEpoch}, the room committed ${state.committedEpoch}`);
  }
  if (!setup.commit) return null;
  const data = decodeCommit(setup.commit);
  return { epoch: setup.commitEpoch, data, history: historyOf(data) };
}

/** The leader's commit as a member receives it; one that does not decode is the leader's fault. */
function decodeCommit(bytes: Uint8Array): CheckpointData {
  try {
    return decodeCheckpoint(bytes, 'the room commit');
  } catch (e) {
    throw new RoomSetupError(0, (e as Error).message);
  }
}

function historyOf(data: CheckpointData): RoomEpoch[] {
  const h = data.extra?.history;
  return Array.isArray(h) ? (h as RoomEpoch[]) : [];
}

function partInfo(
  partition: { numNodes: number; edgeSrc: Int32Array; edgeDst: Int32Array; nodes: Int32Array },
  placement: Parameters<typeof partitionBlocks>[1],
  rank: number,
  generation: number,
  setupMs: number,
): RoomPart {
  const blocks = partitionBlocks(buildAdjacency(partition.numNodes, partition.edgeSrc, partition.edgeDst, { undirected: true, selfLoops: 'add' }), placement, rank);
  let edges = blocks.local.colIdx.length;
  let halo = 0;
  for (const p of blocks.peers) {
    if (!p) continue;
    edges += p.block.colIdx.length;
    halo += p.halo.length;
  }
  return { generation, rank, size: placement.parts, nodes: partition.nodes.length, totalNodes: partition.numNodes, edges, halo, setupMs };
}

function describeState(state: RoomState, id: number): string {
  const inGeneration = state.members.some((m) => m.id === id);
  switch (state.phase) {
    case 'waiting': {
      const missing = state.size - state.pending.length;
      return `waiting for ${missing} more member${missing === 1 ? '' : 's'} (${state.pending.length} of ${state.size} here)`;
    }
    case 'paused': {
      const here = state.members.length + state.pending.length;
      return `paused: ${here} member${here === 1 ? '' : 's'}, the room needs ${state.minMembers}; training resumes when enough have joined`;
    }
    case 'finished':
      return `finished after ${state.committedEpoch} epochs`;
    case 'training':
      return inGeneration ? `training (generation ${state.generation})` : `waiting to be admitted at the next epoch boundary (epoch ${state.committedEpoch} committed)`;
  }
}

export type { RoomConfig };
