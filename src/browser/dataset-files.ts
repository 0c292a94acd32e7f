// Dataset sources in the browser, for the same loader and the same errors as in Node:
// files the user picked (a folder through <input webkitdirectory>, or loose files), and files
// served over HTTP (the embedded Cora and CollegeMsg, bundled with the demo as static assets).

import { NODE_DATASET_FILES, type DatasetSource } from '../graph/node-dataset.ts';

const KNOWN_FILES: ReadonlySet<string> = new Set(Object.values(NODE_DATASET_FILES));

/** A DatasetSource over picked files; `files` are the ones it reads (the dataset's files, nothing else). */
export interface FilesSource extends DatasetSource {
  readonly files: File[];
}

/**
 * A folder picked in the page (or loose files). Files deeper than the folder's top level are ignored.
 * The name is the folder's, else `fallbackName` (File objects kept in IndexedDB lose their folder path).
 */
export function filesSource(files: readonly File[], fallbackName = 'your dataset'): FilesSource {
  const byName = new Map<string, File>();
  let folder: string | null = null;
  for (const file of files) {
    // webkitRelativePath is 'folder/edges.csv' for a picked folder and '' for loose files.
    const parts = (file.webkitRelativePath || file.name).split('/');
    if (parts.length > 2) continue;
    if (parts.length === 2) folder ??= parts[0];
    const name = parts[parts.length - 1];
    if (!KNOWN_FILES.has(name)) continue;
    if (byName.has(name)) throw new Error(`two files named ${name} were chosen; pick one dataset folder`);
    byName.set(name, file);
  }
  return {
    name: folder ?? fallbackName,
    files: [...byName.values()],
    async readText(file: string): Promise<string | null> {
      const picked = byName.get(file);
      return picked ? picked.text() : null;
    },
  };
}

/** Files at URLs (`file name → URL`); a 404 reads as a missing file, other failures are thrown. */
export function urlSource(name: string, urls: Readonly<Record<string, string>>): DatasetSource {
  return {
    name,
    async readText(file: string): Promise<string | null> {
      const url = urls[file];
      if (!url) return null;
      const response = await fetch(url);
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(`could not fetch ${file} of dataset "${name}": HTTP ${response.status} ${response.statusText}`);
      return response.text();
    },
  };
}

