// `webgnn/node`: what only Node can do — Dawn devices, files, worker threads, WebRTC through @roamhq/wrtc and the
// signaling server. The device-agnostic API is `webgnn`; the loaders below that take a DatasetSource are in both.

// Train a model of one's own (or a built-in one) on one device, with SAR or as a pipeline; load a dataset by name or folder
export { loadDataset, loadEvents, train } from './train.ts';
export type { NodeTrainOptions } from './train.ts';
export type { ModelSource, ModelSpec } from './model-source.ts';

// Devices (dawn.node: hardware, then lavapipe, then SwiftShader)
export { createNodeGpu, nodeProvider } from './node-gpu.ts';
export { NodeGpuProvider } from '../gpu/node-provider.ts';

// Datasets and event streams from files (embedded names such as `cora`, `collegemsg`, or folders)
export { embeddedDatasetDir, embeddedDatasetNames, folderSource, resolveDatasetSource, resolveEventStreamSource } from './dataset-source.ts';
export { loadNodeDataset } from '../graph/node-dataset.ts';
export { loadEventStream } from '../graph/event-stream.ts';

// Checkpoint files (written atomically)
export { loadCheckpointFile, saveCheckpointFile } from './checkpoint-file.ts';

// SAR over several devices, worker threads or WebRTC peers
export { createSarEngine } from './sar-setup.ts';
export type { SarRunOptions, SarTransportKind } from './sar-setup.ts';
export { ThreadedSarEngine } from './sar-threads.ts';
export { DistTglThreads } from './disttgl-threads.ts';

// GNNPipe pipelines: every stage its own device (in-process, worker threads or WebRTC peers)
export { createPipeRun } from './pipe-setup.ts';
export type { PipeRun, PipeRunOptions } from './pipe-setup.ts';
export { ThreadedPipeEngine } from './pipe-threads.ts';
export { pipeDefaults, SNAPSHOT_PERIOD, CHUNKS_PER_STAGE } from '../engines/pipe/pipe-options.ts';
export type { PipeOptions } from '../engines/pipe/pipe-options.ts';
export type { StageMethod } from '../engines/pipe/stage-plan.ts';

// Transports: worker threads, and WebRTC's signaling server (ws)
export { ThreadTransport, threadLinks } from '../dist/thread-transport.ts';
export type { ThreadLinks } from '../dist/thread-transport.ts';
export { startSignalingServer } from '../dist/signaling-server.ts';
export type { SignalingServer, SignalingServerOptions } from '../dist/signaling-server.ts';

// The command line (`webgnn …`)
export { main } from './cli.ts';

// Rooms: create or join one from Node (tabs and Node peers train together)
export { createNodeRoom, joinNodeRoom } from './room-node.ts';
export type { NodeRoomDevice } from './room-node.ts';
export { RoomPeer } from '../engines/rooms/room-peer.ts';
export type { CreateRoomSettings, JoinRoomSettings } from '../engines/rooms/room-peer.ts';
export type { RoomEpoch, RoomPart, RoomSummary, RoomMemberEvents } from '../engines/rooms/room-member.ts';
export { formatRoomLink, parseRoomLink } from '../dist/room-protocol.ts';
export { attachRoomServer, startRoomServer } from '../dist/room-server.ts';
export type { RoomServer, RoomServerOptions } from '../dist/room-server.ts';
export type { RoomLink, RoomState, RoomEvent } from '../dist/room-protocol.ts';
