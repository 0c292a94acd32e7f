// Creating or joining a room and training in it, the same in a tab and in Node: the entries (webgnn/browser,
// webgnn/node) pass what differs — the device, the RTCPeerConnection and WebSocket classes, and how a
// built-in model is made — and get back a RoomPeer to watch, run and leave.

import { RoomClient, type RoomClientOptions } from '../../dist/room-client.ts';
import { parseRoomLink, type RoomLink } from '../../dist/room-protocol.ts';
import type { PeerConnectionConstructor } from '../../dist/webrtc-transport.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import type { EventStream } from '../../graph/event-stream.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import type { CheckpointData } from '../../nn/checkpoint.ts';
import { RoomMember, type RoomMemberOptions, type RoomSummary } from './room-member.ts';
import { roomConfig, type RoomTrainingSettings } from './room-training.ts';

export interface RoomPeerEnvironment {
  gpu: Gpu;
  model: RoomMemberOptions['model'];
  /** Builds a temporal room's model (TGN) for its event stream. */
  temporalModel: NonNullable<RoomMemberOptions['temporalModel']>;
  RTCPeerConnection?: PeerConnectionConstructor;
  WebSocket?: RoomClientOptions['WebSocket'];
}

export interface CreateRoomSettings {
  /** ws:// URL of the room server. */
  server: string;
  /** The dataset the room trains on (a node dataset, or an event stream for a temporal room); this member holds it whole and leads. */
  dataset: NodeDataset | EventStream;
  /** What to train; dataset is taken from `dataset`. */
  training: RoomTrainingSettings;
  /** Members needed to start. */
  size: number;
  minMembers?: number;
  maxMembers?: number;
  name?: string;
  resume?: CheckpointData;
}

export interface JoinRoomSettings {
  /** The room link (…#room=…&secret=…&server=…) or its parts. */
  link: string | RoomLink;
  name?: string;
  /** A member that holds the dataset whole can lead if the leader is lost without a deputy. */
  dataset?: NodeDataset | EventStream;
}

/** What RoomMember is given of a dataset: a node dataset or an event stream. */
function holding(dataset: NodeDataset | EventStream | undefined): { dataset?: NodeDataset; stream?: EventStream } {
  if (!dataset) return {};
  return 'numEvents' in dataset ? { stream: dataset } : { dataset };
}

/** A member of a room: its client (state, link), the training member, and this device. */
export class RoomPeer {
  constructor(
    readonly client: RoomClient,
    readonly member: RoomMember,
    readonly gpu: Gpu,
  ) {}

  get link(): RoomLink {
    return this.client.link;
  }

  run(): Promise<RoomSummary> {
    return this.member.run();
  }

  /** GPU bytes this member's device holds now, and the most it has held. */
  memory(): { bytes: number; peak: number } {
    return { bytes: this.gpu.pool.allocatedBytes, peak: this.gpu.pool.peakAllocatedBytes };
  }

  leave(): Promise<void> {
    return this.member.leave();
  }
}

export async function createRoomPeer(env: RoomPeerEnvironment, settings: CreateRoomSettings): Promise<RoomPeer> {
  const config = roomConfig({ ...settings.training, dataset: settings.dataset.name }, settings.size);
  const client = await RoomClient.create({
    server: settings.server,
    name: settings.name,
    WebSocket: env.WebSocket,
    config,
    size: settings.size,
    minMembers: settings.minMembers,
    maxMembers: settings.maxMembers,
  });
  try {
    const member = new RoomMember({ client, gpu: env.gpu, model: env.model, temporalModel: env.temporalModel, ...holding(settings.dataset), RTCPeerConnection: env.RTCPeerConnection, resume: settings.resume });
    return new RoomPeer(client, member, env.gpu);
  } catch (error) {
    await client.leave();
    throw error;
  }
}

export async function joinRoomPeer(env: RoomPeerEnvironment, settings: JoinRoomSettings): Promise<RoomPeer> {
  const link = typeof settings.link === 'string' ? parseRoomLink(settings.link) : settings.link;
  const client = await RoomClient.join({ server: link.server, room: link.room, secret: link.secret, name: settings.name, WebSocket: env.WebSocket });
  try {
    const member = new RoomMember({ client, gpu: env.gpu, model: env.model, temporalModel: env.temporalModel, ...holding(settings.dataset), RTCPeerConnection: env.RTCPeerConnection });
    return new RoomPeer(client, member, env.gpu);
  } catch (error) {
    await client.leave();
    throw error;
  }
}
