// The layering of /work/shared/ARCHITECTURE.md, checked on the import statements themselves: every
// relative import of every file under src/ (type-only, re-exports and dynamic imports included) must
// point to its own layer or one below it, and no files of src/ or bench/ may import each other in a
// circle (two files importing each other being the short case). Imports are read with TypeScript's own
// pre-processor, so comments and strings that look like imports do not count.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Bottom up; a file may import from its own layer and the ones before it. Layers that share an entry
 * (src/node and src/browser) sit side by side and may not import each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['shaders'],
  ['src/gpu'],
  ['src/tensor'],
  ['src/graph'],
  ['src/nn'],
  ['src/dist'],
  ['src/engines'],
  ['src/plan'],
  ['src/index.ts'],
  ['src/node', 'src/browser'],
];

/** Files of src/ that belong to no layer (declarations only). */
const UNLAYERED = new Set(['src/wgsl.d.ts']);

/** Known circles, to be emptied; each entry the sorted files of one circle joined by ' ⇄ '. */
const KNOWN_CYCLES = new Set<string>([]);

interface Place {
  layer: number;
  /** The layer's folder or file, e.g. 'src/node'. */
  name: string;
}

function placeOf(file: string): Place | null {
  for (let layer = LAYERS.length - 1; layer >= 0; layer--) {
    for (const name of LAYERS[layer]) if (file === name || file.startsWith(name + '/')) return { layer, name };
  }
  return null;
}

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(path);
    }
  };
  walk(folder);
  return out.sort();
}

/** Repository-relative targets of `file`'s relative imports (package imports are not arrows here). */
function importsOf(file: string, text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec.replace(/\?.*$/, ''))).split('\\').join('/'));
}

/** Imports that point to a higher layer, or across to a side-by-side one. */
function upwardArrows(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    if (!from.startsWith('src/') || UNLAYERED.has(from)) continue;
    const a = placeOf(from);
    if (!a) {
      bad.push(`${from} lies in no layer (add its folder to LAYERS, as ARCHITECTURE.md places it)`);
      continue;
    }
    for (const to of targets) {
      const b = placeOf(to);
      if (!b) {
        if (!UNLAYERED.has(to)) bad.push(`${from} → ${to}: the target lies in no layer`);
      } else if (b.layer > a.layer || (b.layer === a.layer && b.name !== a.name)) {
        bad.push(`${from} (${a.name}) → ${to} (${b.name})`);
      }
    }
  }
  return bad;
}

/** The circles of the import graph (strongly connected components of two files or more), each sorted. */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, iterative so that a deep chain of imports cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1];
      const targets = (graph.get(frame.node) ?? []).filter((t) => graph.has(t));
      if (frame.next < targets.length) {
        const to = targets[frame.next++];
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1) cycles.push(component.sort());
      }
    }
  }
  return cycles.sort((p, q) => p[0].localeCompare(q[0]));
}

function repositoryGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('bench')]) {
    graph.set(file, importsOf(file, readFileSync(join(ROOT, file), 'utf8')));
  }
  return graph;
}

describe('layering (ARCHITECTURE.md)', () => {
  const graph = repositoryGraph();

  it('reads the imports of every src/ file', () => {
    const files = [...graph.keys()].filter((f) => f.startsWith('src/'));
    assert.ok(files.length > 100, `only ${files.length} files under src/`);
    // Spot checks that each import form is seen: a value import, a type-only import, a shader import.
    assert.ok(graph.get('src/graph/csr.ts')!.includes('src/tensor/csr-structure.ts'));
    assert.ok(graph.get('src/tensor/ops/spmm.ts')!.includes('src/tensor/csr-structure.ts'));
    assert.ok(graph.get('src/tensor/ops/optimizer.ts')!.includes('shaders/optimizer.wgsl'));
  });

  it('no src/ file imports from a layer above its own (or a side-by-side one)', () => {
    assert.deepEqual(upwardArrows(graph), []);
  });

  it('no files of src/ or bench/ import each other in a circle', () => {
    const circles = importCycles(graph).map((c) => c.join(' ⇄ '));
    assert.deepEqual(
      circles.filter((c) => !KNOWN_CYCLES.has(c)),
      [],
    );
  });

  it('the checks catch what they are for', () => {
    const sample = new Map<string, string[]>([
      ['src/tensor/a.ts', ['src/graph/b.ts', 'src/gpu/c.ts', 'shaders/k.wgsl']],
      ['src/graph/b.ts', ['src/tensor/a.ts']],
      ['src/gpu/c.ts', []],
      ['src/node/d.ts', ['src/browser/e.ts', 'src/engines/f.ts']],
      ['src/browser/e.ts', []],
      ['src/engines/f.ts', ['src/engines/g.ts']],
      ['src/engines/g.ts', ['src/engines/h.ts']],
      ['src/engines/h.ts', ['src/engines/f.ts']],
      ['src/mystery/x.ts', []],
    ]);
    assert.deepEqual(upwardArrows(sample), [
      'src/tensor/a.ts (src/tensor) → src/graph/b.ts (src/graph)',
      'src/node/d.ts (src/node) → src/browser/e.ts (src/browser)',
      'src/mystery/x.ts lies in no layer (add its folder to LAYERS, as ARCHITECTURE.md places it)',
    ]);
    assert.deepEqual(importCycles(sample), [
      ['src/engines/f.ts', 'src/engines/g.ts', 'src/engines/h.ts'],
      ['src/graph/b.ts', 'src/tensor/a.ts'],
    ]);
  });
});
