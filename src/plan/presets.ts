// The public graphs the papers train on, with their published sizes. Degree exponents are assumptions
// (the sizes are not): they only shape the modelled halo when no graph is at hand, and say so.

import type { EventWorkload, GraphWorkload } from './workload.ts';

const ASSUMED_EXPONENT = 'power-law degree exponent assumed';

export const GRAPH_PRESETS: Record<string, Omit<GraphWorkload, 'dataset'>> = {
  cora: {
    name: 'cora',
    nodes: 2708,
    nnz: 10556,
    features: 1433,
    classes: 7,
    degrees: { kind: 'power-law', exponent: 2.5 },
    source: `Planetoid Cora (Sen et al. 2008): 2,708 nodes, 5,278 undirected edges, 1,433 features, 7 classes; ${ASSUMED_EXPONENT} 2.5`,
  },
  reddit: {
    name: 'reddit',
    nodes: 232_965,
    nnz: 114_615_892,
    features: 602,
    classes: 41,
    degrees: { kind: 'power-law', exponent: 2.0 },
    source: `Reddit (Hamilton et al. 2017, as DGL's RedditDataset): 232,965 nodes, 114,615,892 directed edges, 602 features, 41 classes; ${ASSUMED_EXPONENT} 2.0`,
  },
  'ogbn-products': {
    name: 'ogbn-products',
    nodes: 2_449_029,
    nnz: 123_718_280,
    features: 100,
    classes: 47,
    degrees: { kind: 'power-law', exponent: 2.1 },
    source: `OGB ogbn-products (Hu et al. 2020): 2,449,029 nodes, 61,859,140 undirected edges, 100 features, 47 classes; ${ASSUMED_EXPONENT} 2.1`,
  },
  'ogbn-papers100M': {
    name: 'ogbn-papers100M',
    nodes: 111_059_956,
    nnz: 3_231_371_744,
    features: 128,
    classes: 172,
    degrees: { kind: 'power-law', exponent: 2.1 },
    source: `OGB ogbn-papers100M (Hu et al. 2020): 111,059,956 nodes, 1,615,685,872 directed edges (3.2 B symmetric, as SAR trains it), 128 features, 172 classes; ${ASSUMED_EXPONENT} 2.1`,
  },
};

export const EVENT_PRESETS: Record<string, EventWorkload> = {
  collegemsg: { name: 'collegemsg', nodes: 1899, events: 59_835, edgeFeatures: 0, source: 'SNAP CollegeMsg (Panzarasa et al. 2009): 1,899 users, 59,835 messages (embedded)' },
  wikipedia: { name: 'wikipedia', nodes: 9227, events: 157_474, edgeFeatures: 172, source: 'JODIE Wikipedia (Kumar et al. 2019): 9,227 nodes, 157,474 edits, 172 edge features' },
  'reddit-events': { name: 'reddit-events', nodes: 10_984, events: 672_447, edgeFeatures: 172, source: 'JODIE Reddit (Kumar et al. 2019): 10,984 nodes, 672,447 posts, 172 edge features' },
};

export const PRESET_NAMES = [...Object.keys(GRAPH_PRESETS), ...Object.keys(EVENT_PRESETS)];
