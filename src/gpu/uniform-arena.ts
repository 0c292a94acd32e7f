// Per-dispatch uniforms without a buffer or a writeBuffer each: dispatches of one submission take
// 256-byte-aligned slots in 64 KiB chunks, staged on the CPU and uploaded once just before submit.
// Chunks are reused by the next submission; queue order makes that safe.

import type { BufferPool } from './buffer-pool.ts';
import type { Params } from './params.ts';

const CHUNK_BYTES = 64 * 1024;

interface Chunk {
  buffer: GPUBuffer;
  staging: Uint8Array<ArrayBuffer>;
  used: number;
}

export class UniformArena {
  private readonly chunks: Chunk[] = [];
  private current = 0;
  private readonly align: number;

  constructor(
    device: GPUDevice,
    private readonly pool: BufferPool,
  ) {
    this.align = Number(device.limits.minUniformBufferOffsetAlignment);
  }

  /** Reserves a slot for `params` and returns its binding. */
  allocate(params: Params): GPUBufferBinding {
    const size = params.byteLength;
    let chunk = this.chunks[this.current];
    if (chunk && chunk.used + size > CHUNK_BYTES) chunk = this.chunks[++this.current];
    if (!chunk) {
      const buffer = this.pool.acquire(CHUNK_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'uniforms', true);
      chunk = { buffer, staging: new Uint8Array(CHUNK_BYTES), used: 0 };
      this.chunks[this.current] = chunk;
    }
    const offset = chunk.used;
    chunk.staging.set(params.bytes.subarray(0, size), offset);
    chunk.used = Math.ceil((offset + size) / this.align) * this.align;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Uploads what this submission wrote and rewinds for the next one. */
  flush(queue: GPUQueue): void {
    for (const chunk of this.chunks) {
      if (chunk.used > 0) queue.writeBuffer(chunk.buffer, 0, chunk.staging, 0, chunk.used);
      chunk.used = 0;
    }
    this.current = 0;
  }
}
