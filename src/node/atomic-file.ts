// Nothing already saved is lost: a file is written beside its destination, flushed, then renamed over it,
// so a crash leaves the old file or the new one, never half of either.

import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `path` atomically; `what` names the file in the error ('checkpoint', 'profile'). */
export async function writeFileAtomically(path: string, data: string | Uint8Array, what: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw new Error(`could not write ${what} ${path}: ${(error as Error).message}`);
  }
  await file.close();
  await rename(temporary, path);
}
