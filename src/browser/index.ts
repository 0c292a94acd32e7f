// `webgnn/browser`: what only a browser has — a device from navigator.gpu, the IndexedDB checkpoint store, dataset
// files the user picked, and SAR over several devices in one tab. The device-agnostic API is `webgnn`.

// Devices
export { browserProvider, createBrowserGpu } from './browser-gpu.ts';
export { BrowserGpuProvider, webgpuUnavailableReason } from '../gpu/browser-provider.ts';

// Datasets from picked files or URLs (for loadNodeDataset / loadEventStream)
export { filesSource, urlSource } from './dataset-files.ts';
export type { FilesSource } from './dataset-files.ts';

// Checkpoints in IndexedDB (one transaction per save; the bytes are encodeCheckpoint's, as in Node's files)
export { beginRun, clearRun, loadDatasetFiles, loadRoomCheckpoint, loadRun, saveRoomCheckpoint, saveRun } from './idb-store.ts';
export type { DatasetRef, RunSettings, SavedDatasetFiles, SavedRoomCheckpoint, SavedRun } from './idb-store.ts';

// SAR: several devices in one tab
export { MAX_BROWSER_WORKERS, BrowserSarEngine, createBrowserSarEngine } from './sar-browser.ts';
export type { BrowserSarOptions, WorkerMemory } from './sar-browser.ts';

// Rooms: tabs (and Node peers) linked by WebRTC train one model; members join and leave, training goes on
export { createBrowserRoom, joinBrowserRoom } from './room-browser.ts';
export { RoomPeer } from '../engines/rooms/room-peer.ts';
export type { CreateRoomSettings, JoinRoomSettings } from '../engines/rooms/room-peer.ts';
export type { RoomEpoch, RoomPart, RoomSummary, RoomMemberEvents } from '../engines/rooms/room-member.ts';
export { formatRoomLink, parseRoomLink, describeRoomClose } from '../dist/room-protocol.ts';
export type { RoomLink, RoomState, RoomEvent, RoomMemberInfo, RoomPhase } from '../dist/room-protocol.ts';
export { RoomClosedError } from '../dist/room-client.ts';
