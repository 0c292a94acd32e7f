import { AliasSampler, checkCount, shuffledIds } from './sampling.ts';
import { mulberry32 } from './synthetic.ts';
import type { EdgeList } from './synthetic.ts';

/**
 * Synthetic graph with power-law degrees AND locality, for benchmarks of partitioned (distributed)
 * training: real graphs (citation, social, product) are mostly made of dense communities with few edges
 * between them, which is what a partitioner exploits. powerLawGraph has no such structure, so every
 * partition of it cuts most edges; this generator does.
 *
 * Model (a Chung–Lu graph with planted communities):
 * - every node gets a weight w ∝ rank^(-1/(γ-1)) (power-law expected degrees with exponent γ), ranks
 *   assigned by a seeded shuffle so hubs are spread over the id range;
 * - nodes are dealt into `communities` communities of equal size (±1) by a second seeded shuffle, so
 *   node ids do not reveal the community;
 * - every edge draws its first endpoint from all nodes ∝ w; with probability `intraFraction` the second
 *   endpoint is drawn ∝ w among the first one's community, otherwise ∝ w among the nodes of the other
 *   communities. A node's expected degree stays ∝ w either way.
 * So about intraFraction of the edges lie inside communities (duplicates and self loops aside: self
 * loops are redrawn, duplicates can occur and buildAdjacency merges them). Alias tables: O(1) per draw.
 * With one community every edge is intra-community. Deterministic for a seed.
 */
export interface CommunityGraphOptions {
  numNodes: number;
  /** Number of edge-list entries (undirected edges). */
  numEdges: number;
  communities: number;
  /** Fraction of edges with both endpoints in one community; default 0.9. */
  intraFraction?: number;
  /** Exponent γ of the degree distribution P(k) ∝ k^-γ; must be > 1. Default 2.1. */
  exponent?: number;
  seed: number;
}

/** The edge list, plus the planted community of every node (a reference partition for tests and benchmarks). */
export interface CommunityEdgeList extends EdgeList {
  community: Int32Array<ArrayBuffer>;
}

export function communityGraph(options: CommunityGraphOptions): CommunityEdgeList {
  const { numNodes: n, numEdges, communities, seed } = options;
  const intraFraction = options.intraFraction ?? 0.9;
  const exponent = options.exponent ?? 2.1;
  checkCount('communityGraph', 'numNodes', n);
  checkCount('communityGraph', 'numEdges', numEdges);
  if (!Number.isInteger(seed)) throw new Error(`communityGraph: seed must be an integer, got ${seed}`);
  if (!(exponent > 1) || !Number.isFinite(exponent)) {
    throw new Error(`communityGraph: exponent must be a finite number > 1, got ${exponent}`);
  }
  if (!(intraFraction >= 0 && intraFraction <= 1)) {
    throw new Error(`communityGraph: intraFraction must be in [0, 1], got ${intraFraction}`);
  }
  if (!Number.isInteger(communities) || communities < 1 || communities > Math.max(1, Math.floor(n / 2))) {
    throw new Error(
      `communityGraph: communities must be an integer in [1, numNodes / 2] (every community needs two nodes ` +
        `for an edge inside it), got ${communities} for ${n} nodes`,
    );
  }
  if (numEdges > 0 && n < 2) throw new Error('communityGraph: edges need at least 2 nodes');

  const random = mulberry32(seed);
  const weights = new Float64Array(n);
  const rankOf = shuffledIds(n, random);
  const decay = -1 / (exponent - 1);
  for (let i = 0; i < n; i++) weights[rankOf[i]] = Math.pow(i + 1, decay);

  // members[start[c] .. start[c+1]) are the nodes of community c.
  const members = shuffledIds(n, random);
  const start = new Int32Array(communities + 1);
  for (let c = 0; c <= communities; c++) start[c] = Math.floor((c * n) / communities);
  const communityOf = new Int32Array(n);
  for (let c = 0; c < communities; c++) {
    for (let i = start[c]; i < start[c + 1]; i++) communityOf[members[i]] = c;
  }

  const all = new AliasSampler(weights, members, 0, n);
  const within: AliasSampler[] = [];
  for (let c = 0; c < communities; c++) within.push(new AliasSampler(weights, members, start[c], start[c + 1]));

  const src = new Int32Array(numEdges);
  const dst = new Int32Array(numEdges);
  for (let e = 0; e < numEdges; e++) {
    const s = all.sample(random);
    const community = communityOf[s];
    let d: number;
    if (communities === 1 || random() < intraFraction) {
      do d = within[community].sample(random);
      while (d === s);
    } else {
      // Rejection from all nodes: a community holds a small share of the weight, so few redraws.
      do d = all.sample(random);
      while (communityOf[d] === community);
    }
    src[e] = s;
    dst[e] = d;
  }
  return { src, dst, community: communityOf };
}

