// `webgnn train --model ./my-model.mjs[#Export]`: a model of one's own from a module file. Its export (the
// default export unless `#Name` is given) is a Module class or a factory, called with one object of the
// run's widths — { inChannels, hiddenChannels, outChannels, dropout, layers } — so the same file trains with
// --mode single and --mode sar (every transport: threads import the file themselves).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelModule } from '../nn/model-import.ts';

export const BUILTIN_MODELS = ['gcn', 'sage', 'gat', 'gcnii', 'resgcn'] as const;

/** What the module's export is called (or constructed) with. */
export interface ModelFileArgs {
  inChannels: number;
  hiddenChannels: number;
  outChannels: number;
  dropout: number;
  layers: number;
}

const MODEL_FILE = /^(.+\.(?:mjs|js|ts|mts))(?:#([A-Za-z_$][\w$]*))?$/;

/** What --model accepts, for errors. */
export function modelChoiceError(text: string): string {
  return `--model must be ${BUILTIN_MODELS.join(', ')} or a module file (FILE.mjs, FILE.js or FILE.ts, optionally #ExportName), got '${text}'`;
}

export function isModelFile(text: string): boolean {
  return MODEL_FILE.test(text);
}

/** The --model value as a ModelModule for `args`, or an error saying what --model accepts. */
export function modelFileSource(text: string, args: ModelFileArgs): ModelModule {
  const match = MODEL_FILE.exec(text);
  if (!match) throw new Error(modelChoiceError(text));
  const file = resolve(match[1]);
  if (!existsSync(file)) throw new Error(`--model ${text}: no such file (${file})`);
  return { module: pathToFileURL(file).href, export: match[2] ?? 'default', args: [args] };
}
