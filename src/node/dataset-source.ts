import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
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

/**
 * Where an event stream comes from (`--dataset collegemsg|folder|path.csv`): an embedded name or a folder
 * (its `events.csv`, with the optional meta.json), or one CSV file on its own. Pass `eventsFile` to
 * loadEventStream, so errors name the user's file.
 */
export function resolveEventStreamSource(nameOrPath: string): { source: DatasetSource; eventsFile: string } {
  if (!(isPlainName(nameOrPath) && isDirectory(embeddedDatasetDir(nameOrPath))) && isFile(nameOrPath)) {
    const file = basename(nameOrPath);
    const folder = folderSource(dirname(nameOrPath));
    return {
      source: { name: basename(file, extname(file)), readText: (name) => (name === file ? folder.readText(name) : Promise.resolve(null)) },
      eventsFile: file,
    };
  }
  return { source: resolveDatasetSource(nameOrPath), eventsFile: 'events.csv' };
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

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
