// Elements per workgroup of the elementwise kernels (256 threads × ELEMS in shaders/grid.wgsl).
export const GRID_BLOCK = 256 * 4;

/**
 * Threads that share one row in the row-team kernels (shaders/layer-norm.wgsl, cross-entropy.wgsl): the
 * smallest power of two ≥ `width`, at most `maxTeam` (a workgroup of 256 then holds 256 / team rows).
 */
export function teamWidth(width: number, maxTeam: number): number {
  let team = 1;
  while (team < width && team < maxTeam) team *= 2;
  return team;
}
