// Rooms in a tab: the page's own RTCPeerConnection and WebSocket, a device from navigator.gpu, and the
// built-in models. Runs on the page's main thread: Chromium offers RTCPeerConnection to pages, not to
// Web Workers, so a room member cannot live in the demo's trainer worker.

import { createRoomPeer, joinRoomPeer, RoomPeer, type CreateRoomSettings, type JoinRoomSettings, type RoomPeerEnvironment } from '../engines/rooms/room-peer.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { parseRoomLink } from '../dist/room-protocol.ts';
import { builtinModelForShape } from '../nn/models/builtin.ts';
import { createBrowserGpu } from './browser-gpu.ts';
import { nodeModelOf } from '../engines/rooms/room-training.ts';
import { Tgn, TGN_DEFAULTS } from '../nn/tgn/tgn.ts';

const model: RoomPeerEnvironment['model'] = (shape, t) =>
  builtinModelForShape(shape, { model: nodeModelOf(t), hidden: t.hidden, heads: t.heads, layers: t.layers, dropout: t.dropout });
/** A temporal room's TGN for its event stream. */
const temporalModel: RoomPeerEnvironment['temporalModel'] = (shape, t) => new Tgn({ ...TGN_DEFAULTS, ...shape, memoryDim: t.temporal.memoryDim, neighbors: t.temporal.neighbors });

async function environment(gpu?: Gpu): Promise<RoomPeerEnvironment> {
  return { gpu: gpu ?? (await createBrowserGpu({ label: 'room member' })), model, temporalModel };
}

/** Creates a room on `settings.server` and becomes its first member (and leader). */
export async function createBrowserRoom(settings: CreateRoomSettings, gpu?: Gpu): Promise<RoomPeer> {
  return withDevice(gpu, (env) => createRoomPeer(env, settings));
}

/** Joins the room of a link (…#room=…&secret=…&server=…). */
export async function joinBrowserRoom(settings: JoinRoomSettings, gpu?: Gpu): Promise<RoomPeer> {
  // A malformed link is refused before a device is opened for it.
  const link = typeof settings.link === 'string' ? parseRoomLink(settings.link) : settings.link;
  return withDevice(gpu, (env) => joinRoomPeer(env, { ...settings, link }));
}

/** Runs `start` with this member's environment; a device opened here is closed again if it fails. */
async function withDevice(gpu: Gpu | undefined, start: (env: RoomPeerEnvironment) => Promise<RoomPeer>): Promise<RoomPeer> {
  const env = await environment(gpu);
  try {
    return await start(env);
  } catch (error) {
    if (!gpu) env.gpu.destroy();
    throw error;
  }
}
