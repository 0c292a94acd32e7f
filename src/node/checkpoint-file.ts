// Checkpoints on disk, written atomically: a temporary file in the same folder, flushed, then
// renamed over the target, so a crash mid-write never leaves a half-written checkpoint behind.

import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../nn/checkpoint.ts';

export async function saveCheckpointFile(path: string, data: CheckpointData): Promise<void> {
  const bytes = encodeCheckpoint(data);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw new Error(`could not write checkpoint ${path}: ${(error as Error).message}`);
  }
  await file.close();
  await rename(temporary, path);
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
