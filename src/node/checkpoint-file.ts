// Checkpoints on disk, written atomically: a temporary file in the same folder, flushed, then
// renamed over the target, so a crash mid-write never leaves a half-written checkpoint behind.

import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from './atomic-file.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../nn/checkpoint.ts';

export async function saveCheckpointFile(path: string, data: CheckpointData): Promise<void> {
  const bytes = encodeCheckpoint(data);
  await writeFileAtomically(path, bytes, 'checkpoint');
}

export async function loadCheckpointFile(path: string): Promise<CheckpointData> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`could not read checkpoint ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return decodeCheckpoint(bytes, path);
}
