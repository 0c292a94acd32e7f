// The browser's checkpoint store (IndexedDB through idb-keyval). A checkpoint is one record written
// with one `set`, i.e. one IndexedDB transaction: a reload or a crash mid-write leaves the previous
// record whole. The record carries the encoded checkpoint — the same bytes as the CLI's
// --checkpoint file — plus what the page needs to offer resuming (settings, dataset, history).

import { createStore, del, get, promisifyRequest, set } from 'idb-keyval';
import type { EpochMetrics } from '../engines/engine.ts';
import type { NodeRunOptions } from '../engines/node-classification.ts';
import type { RoomConfig } from '../dist/room-protocol.ts';

/** A run's settings: what `trainNodeClassification` needs, less the callbacks. */
export type RunSettings = Omit<NodeRunOptions, 'onCheckpoint'>;

export type DatasetRef = { kind: 'embedded'; name: string } | { kind: 'files'; name: string };

export interface SavedRun {
  /** encodeCheckpoint() bytes: weights, optimizer state, epoch, RNG state. */
  checkpoint: Uint8Array;
  epoch: number;
  settings: RunSettings;
  dataset: DatasetRef;
  /** Metrics of every epoch so far, to redraw the plots after a reload. */
  history: EpochMetrics[];
  /** Reached its last epoch or stopped early (as opposed to interrupted or stopped by the user). */
  finished: boolean;
  savedAt: number;
}

export interface SavedDatasetFiles {
  name: string;
  files: File[];
}

const RUN_KEY = 'run';
const FILES_KEY = 'dataset-files';

let store: ReturnType<typeof createStore> | null = null;
// Opened on first use, so importing this module never touches IndexedDB.
const db = () => (store ??= createStore('webgnn', 'checkpoints'));

export async function saveRun(run: SavedRun): Promise<void> {
  await set(RUN_KEY, run, db());
}

export async function loadRun(): Promise<SavedRun | undefined> {
  return get<SavedRun>(RUN_KEY, db());
}

export async function clearRun(): Promise<void> {
  await del(RUN_KEY, db());
}

/**
 * A fresh run begins: in one transaction, forget the previous run's checkpoint and keep the files of
 * a user dataset (File objects are stored as they are), so a reload can resume on the same data.
 */
export async function beginRun(files: SavedDatasetFiles | null): Promise<void> {
  await db()('readwrite', (s) => {
    s.delete(RUN_KEY);
    if (files) s.put(files, FILES_KEY);
    else s.delete(FILES_KEY);
    return promisifyRequest(s.transaction);
  });
}

export async function loadDatasetFiles(): Promise<SavedDatasetFiles | undefined> {
  return get<SavedDatasetFiles>(FILES_KEY, db());
}

/** A room's persistent checkpoint as one member keeps it (every member of a room saves its own copy). */
export interface SavedRoomCheckpoint {
  /** encodeCheckpoint() bytes of the room's commit: weights, optimizer state, epoch, RNG state, history. */
  checkpoint: Uint8Array;
  epoch: number;
  /** The room it came from, and what that room trains. */
  room: string;
  config: RoomConfig;
  /** This member's id in that room. */
  member: number;
  savedAt: number;
}

const ROOM_KEY = 'room-checkpoint';

/** Replaces the saved room checkpoint (one `set`: one transaction, so a crash mid-write keeps the previous one). */
export async function saveRoomCheckpoint(saved: SavedRoomCheckpoint): Promise<void> {
  await set(ROOM_KEY, saved, db());
}

export async function loadRoomCheckpoint(): Promise<SavedRoomCheckpoint | undefined> {
  return get<SavedRoomCheckpoint>(ROOM_KEY, db());
}
