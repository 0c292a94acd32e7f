// Elements per workgroup of the elementwise kernels (256 threads × ELEMS in shaders/grid.wgsl).
export const GRID_BLOCK = 256 * 4;
