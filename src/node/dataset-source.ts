import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetSource } from '../graph/node-dataset.ts';

/** The package root: this file lives at src/node/. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EMBEDDED_DATA_DIR = join(PACKAGE_ROOT, 'data');

/** A dataset folder on disk; a missing file reads as null, other read errors are thrown. */
export function folderSource(dir: string): DatasetSource {
  const absolute = resolve(dir);
  return {
    name: basename(absolute),
    async readText(file: string): Promise<string | null> {
      try {
        return await readFile(join(absolute, file), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}

/** Folder of a dataset shipped with the package, `data/<name>` (whether or not it exists). */
export function embeddedDatasetDir(name: string): string {
  if (!isPlainName(name)) throw new Error(`embedded dataset name must be a plain folder name, got "${name}"`);
  return join(EMBEDDED_DATA_DIR, name);
}

/** Names of the datasets shipped with the package. */
export function embeddedDatasetNames(): string[] {
  try {
    return readdirSync(EMBEDDED_DATA_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * A plain name of an embedded dataset (`cora`) means that one, even if a folder of the same name
 * exists in the working directory; anything else is a filesystem path to a dataset folder.
 */
export function resolveDatasetSource(nameOrPath: string): DatasetSource {
  if (isPlainName(nameOrPath) && isDirectory(embeddedDatasetDir(nameOrPath))) {
    return folderSource(embeddedDatasetDir(nameOrPath));
  }
  if (isDirectory(nameOrPath)) return folderSource(nameOrPath);
  const available = embeddedDatasetNames();
  throw new Error(
    `dataset "${nameOrPath}" not found: it is not an embedded dataset (available: ${available.join(', ') || 'none'}) ` +
      `and there is no folder at ${resolve(nameOrPath)}`,
  );
}

function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\]/.test(name);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
