// Builds a SAR run in Node: partitions the graph, gives every worker its own adapter and device, and
// links the workers with the chosen transport — in-process hand-off ('local'), WebRTC data channels
// through a signaling server on 127.0.0.1 ('webrtc', the code a browser tab runs), or one worker_thread
// per worker ('threads', see sar-threads.ts).

import { randomBytes } from 'node:crypto';
import wrtc from '@roamhq/wrtc';
import { WebSocket } from 'ws';
import { LocalTransport } from '../dist/local-transport.ts';
import { startSignalingServer } from '../dist/signaling-server.ts';
import type { Transport } from '../dist/transport.ts';
import { connectWebRtc, type PeerConnectionConstructor } from '../dist/webrtc-transport.ts';
import type { WebSocketConstructor } from '../dist/signaling-client.ts';
import type { Engine } from '../engines/engine.ts';
import { SarEngine } from '../engines/sar/sar-engine.ts';
import { checkPartitionable } from '../engines/sar/partition-check.ts';
import { SarWorker } from '../engines/sar/sar-worker.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { DeviceReport, Gpu } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import { placeForSar, type PartitionMethod } from '../engines/sar/placement.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { modelFactory, serializableSource, type ModelSpec } from './model-source.ts';
import { createNodeGpu } from './node-gpu.ts';
import { ThreadedSarEngine } from './sar-threads.ts';

export type SarTransportKind = 'local' | 'threads' | 'webrtc';

export interface SarRunOptions {
  workers: number;
  transport: SarTransportKind;
  /** false: the graph-parallel baseline that keeps fetched halos for the backward. */
  remat: boolean;
  partition: PartitionMethod;
  /** Adapter for every worker (WEBGNN_ADAPTER / --adapter), e.g. 'lavapipe'. */
  adapter?: string;
  /** false: every worker uses the subgroup-free kernels (--no-subgroups). */
  subgroups?: boolean;
}

/**
 * A SAR run of `model` over `options.workers` workers: each builds its own replica (a factory for the
 * in-process transports; a ModelSource, which threads can rebuild, for 'threads').
 */
export async function createSarEngine(
  dataset: NodeDataset,
  model: ModelSpec,
  training: NodeTrainingOptions,
  options: SarRunOptions,
  resume?: CheckpointData,
): Promise<Engine & { readonly devices: DeviceReport[] }> {
  const { workers } = options;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`--workers must be an integer in 1..64, got ${workers}`);
  const { placement, edgeCut } = placeForSar(dataset, workers, options.partition, training.seed);
  const describe = { workers, transport: options.transport, remat: options.remat, partition: options.partition, edgeCut };
  if (options.transport === 'threads') {
    return ThreadedSarEngine.start({ dataset, placement, model: serializableSource(model), training, remat: options.remat, adapter: options.adapter, subgroups: options.subgroups, resume, describe });
  }
  const replica = await modelFactory(model);
  const gpus: Gpu[] = [];
  let transports: Transport[] = [];
  let closeSignaling: (() => Promise<void>) | null = null;
  try {
    for (let r = 0; r < workers; r++) gpus.push(await createNodeGpu({ name: options.adapter, subgroups: options.subgroups, label: `worker ${r}` }));
    if (options.transport === 'local') {
      transports = LocalTransport.group(workers);
    } else {
      const secret = randomBytes(16).toString('hex');
      const server = await startSignalingServer({ host: '127.0.0.1', port: 0, secret });
      closeSignaling = () => server.close();
      transports = await Promise.all(
        Array.from({ length: workers }, (_, rank) =>
          connectWebRtc({
            rank,
            size: workers,
            signalingUrl: server.url,
            room: 'sar',
            secret,
            RTCPeerConnection: wrtc.RTCPeerConnection as unknown as PeerConnectionConstructor,
            WebSocket: WebSocket as unknown as WebSocketConstructor,
          }),
        ),
      );
    }
    const members = gpus.map((gpu, rank) => new SarWorker(gpu, transports[rank], dataset, placement, replica(), training, { remat: options.remat }, resume));
    await checkPartitionable(gpus[0], members[0].model, dataset.numFeatures);
    return new SarEngine(members, describe, async () => {
      for (const gpu of gpus) gpu.destroy();
      await closeSignaling?.();
    });
  } catch (error) {
    for (const t of transports) await t.close();
    for (const gpu of gpus) gpu.destroy();
    await closeSignaling?.();
    throw error;
  }
}
