// The first N events of a loaded stream, as a stream of its own: the demo (and bench) train on a prefix of CollegeMsg
// when a full epoch would take minutes (software adapters, the browser test). Slicing the loaded stream,
// rather than rebuilding one from arrays, keeps the file, its line numbers and the original node ids, so
// later errors still name the event as it is written in events.csv.

import type { EventStream } from './event-stream.ts';

/**
 * Events 0..count−1 of `stream` (the stream itself when it has no more than `count`). Node ids stay as
 * they are: under the loader's default 'remap' the nodes of a time-ordered prefix are exactly 0..k−1 (ids
 * go by first appearance), so numNodes shrinks to k; under 'keep' it becomes the prefix's largest id + 1,
 * as the loader would count it.
 */
export function firstEvents(stream: EventStream, count: number): EventStream {
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`firstEvents: the number of events must be a positive integer, got ${count}`);
  if (count >= stream.numEvents) return stream;
  const src = stream.src.slice(0, count);
  const dst = stream.dst.slice(0, count);
  let largest = -1;
  for (let i = 0; i < count; i++) largest = Math.max(largest, src[i], dst[i]);
  const numNodes = largest + 1;
  return {
    ...stream,
    name: `${stream.name} (first ${count} events)`,
    numNodes,
    numEvents: count,
    src,
    dst,
    t: stream.t.slice(0, count),
    label: stream.label?.slice(0, count) ?? null,
    edgeFeatures: stream.edgeFeatures?.slice(0, count * stream.edgeDim) ?? null,
    originalIds: stream.originalIds.slice(0, numNodes),
    lines: stream.lines.slice(0, count),
  };
}
