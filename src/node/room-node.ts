// Rooms from Node: a Dawn device, @roamhq/wrtc's RTCPeerConnection (the browser's API, so the same
// transport code runs) and ws's WebSocket; `webgnn join` and `webgnn train --room` use these.

import wrtc from '@roamhq/wrtc';
import { WebSocket } from 'ws';
import type { WebSocketConstructor } from '../dist/signaling-client.ts';
import type { PeerConnectionConstructor } from '../dist/webrtc-transport.ts';
import { parseRoomLink } from '../dist/room-protocol.ts';
import { createRoomPeer, joinRoomPeer, RoomPeer, type CreateRoomSettings, type JoinRoomSettings, type RoomPeerEnvironment } from '../engines/rooms/room-peer.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { builtinModelForShape } from '../nn/models/builtin.ts';
import { createNodeGpu } from './node-gpu.ts';
import { nodeModelOf } from '../engines/rooms/room-training.ts';
import { Tgn, TGN_DEFAULTS } from '../nn/tgn/tgn.ts';

const model: RoomPeerEnvironment['model'] = (shape, t) =>
  builtinModelForShape(shape, { model: nodeModelOf(t), hidden: t.hidden, heads: t.heads, layers: t.layers, dropout: t.dropout });
/** A temporal room's TGN for its event stream. */
const temporalModel: RoomPeerEnvironment['temporalModel'] = (shape, t) => new Tgn({ ...TGN_DEFAULTS, ...shape, memoryDim: t.temporal.memoryDim, neighbors: t.temporal.neighbors });

export interface NodeRoomDevice {
  /** Adapter name ('lavapipe', …); default as createNodeGpu. */
  adapter?: string;
  subgroups?: boolean;
  /** A device of one's own instead. */
  gpu?: Gpu;
}

async function environment(device: NodeRoomDevice): Promise<RoomPeerEnvironment> {
  const gpu = device.gpu ?? (await createNodeGpu({ name: device.adapter, subgroups: device.subgroups, label: 'room member' }));
  return {
    gpu,
    model,
    temporalModel,
    RTCPeerConnection: wrtc.RTCPeerConnection as unknown as PeerConnectionConstructor,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  };
}

/** Creates a room and leads it from Node. */
export async function createNodeRoom(settings: CreateRoomSettings, device: NodeRoomDevice = {}): Promise<RoomPeer> {
  return withDevice(device, (env) => createRoomPeer(env, settings));
}

/** Joins a room (…#room=…&secret=…&server=…) from Node. */
export async function joinNodeRoom(settings: JoinRoomSettings, device: NodeRoomDevice = {}): Promise<RoomPeer> {
  // A malformed link is refused before a device is opened for it.
  const link = typeof settings.link === 'string' ? parseRoomLink(settings.link) : settings.link;
  return withDevice(device, (env) => joinRoomPeer(env, { ...settings, link }));
}

/** Runs `start` with this member's environment; a device opened here is closed again if it fails. */
async function withDevice(device: NodeRoomDevice, start: (env: RoomPeerEnvironment) => Promise<RoomPeer>): Promise<RoomPeer> {
  const env = await environment(device);
  try {
    return await start(env);
  } catch (error) {
    if (!device.gpu) env.gpu.destroy();
    throw error;
  }
}
