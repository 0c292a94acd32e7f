// Dataset meta files (meta.json): parsed with errors that name the file and the line of the problem.

import { DatasetError } from './dataset-error.ts';

/** The JSON object in `text`, or a DatasetError naming `file` and the line (bad JSON, not an object). */
export function parseJsonObject(file: string, text: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DatasetError(file, jsonErrorLine(text, message), `not valid JSON (${message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DatasetError(file, 1, 'must be a JSON object');
  return json as Record<string, unknown>;
}

/** Line of the first `"key":` in a JSON text, or null when the key is absent. */
export function lineOfKey(text: string, key: string): number | null {
  const match = new RegExp(`"${key}"\\s*:`).exec(text);
  return match === null ? null : lineAt(text, match.index);
}

/** V8 reports "at position N" (newer versions "(line L column C)"); turn either into a line. */
export function jsonErrorLine(text: string, message: string): number | null {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (position) return lineAt(text, Math.min(Number(position[1]), text.length));
  return null;
}

/** 1-based line of character `index`. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
