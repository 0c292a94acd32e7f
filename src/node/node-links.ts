// The in-process side of a distributed run in Node (SAR, pipeline): one adapter and device per rank, and
// the ranks linked by in-process hand-off ('local') or by WebRTC data channels through a signaling server
// on 127.0.0.1 ('webrtc', the code a browser tab runs). Worker threads are set up by engine-threads.ts.

import { randomBytes } from 'node:crypto';
import wrtc from '@roamhq/wrtc';
import { WebSocket } from 'ws';
import { LocalTransport } from '../dist/local-transport.ts';
import { startSignalingServer } from '../dist/signaling-server.ts';
import type { WebSocketConstructor } from '../dist/signaling-client.ts';
import type { Transport } from '../dist/transport.ts';
import { connectWebRtc, type PeerConnectionConstructor } from '../dist/webrtc-transport.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { createNodeGpu } from './node-gpu.ts';

/** How the ranks of a run talk: in-process, one worker_thread each, or WebRTC. */
export type TransportKind = 'local' | 'threads' | 'webrtc';

export interface InProcessRanks {
  gpus: Gpu[];
  transports: Transport[];
  /** Destroys the devices and stops the signaling server (the transports are closed by their engine). */
  release: () => Promise<void>;
}

/** Refuses a worker count out of 1..64, naming the flag. */
export function checkWorkers(workers: number): void {
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`--workers must be an integer in 1..64, got ${workers}`);
}

/**
 * `size` devices (labelled `${role} r`) linked by `kind`, then `build` on them; when `build` throws,
 * the transports are closed and the devices destroyed before the error goes on.
 */
export async function withInProcessRanks<T>(
  size: number,
  kind: 'local' | 'webrtc',
  device: { adapter?: string; subgroups?: boolean; role: string; room: string },
  build: (ranks: InProcessRanks) => Promise<T>,
): Promise<T> {
  const gpus: Gpu[] = [];
  let transports: Transport[] = [];
  let closeSignaling: (() => Promise<void>) | null = null;
  const release = async () => {
    for (const gpu of gpus) gpu.destroy();
    await closeSignaling?.();
  };
  try {
    for (let r = 0; r < size; r++) gpus.push(await createNodeGpu({ name: device.adapter, subgroups: device.subgroups, label: `${device.role} ${r}` }));
    if (kind === 'local') {
      transports = LocalTransport.group(size);
    } else {
      const secret = randomBytes(16).toString('hex');
      const server = await startSignalingServer({ host: '127.0.0.1', port: 0, secret });
      closeSignaling = () => server.close();
      transports = await Promise.all(
        Array.from({ length: size }, (_, rank) =>
          connectWebRtc({
            rank,
            size,
            signalingUrl: server.url,
            room: device.room,
            secret,
            RTCPeerConnection: wrtc.RTCPeerConnection as unknown as PeerConnectionConstructor,
            WebSocket: WebSocket as unknown as WebSocketConstructor,
          }),
        ),
      );
    }
    return await build({ gpus, transports, release });
  } catch (error) {
    for (const t of transports) await t.close();
    await release();
    throw error;
  }
}
