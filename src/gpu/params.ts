// Builds the bytes of a kernel's uniform `Params` struct: 4-byte fields in declaration order.

export class Params {
  private readonly view: DataView;
  private offset = 0;
  readonly bytes: Uint8Array;

  constructor(capacity = 64) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 parameter out of range: ${value}`);
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
    return this;
  }

  i32(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`i32 parameter out of range: ${value}`);
    this.view.setInt32(this.offset, value, true);
    this.offset += 4;
    return this;
  }

  f32(value: number): this {
    this.view.setFloat32(this.offset, value, true);
    this.offset += 4;
    return this;
  }

  get byteLength(): number {
    // WGSL uniform structs are sized to a multiple of 16 bytes.
    return Math.max(16, Math.ceil(this.offset / 16) * 16);
  }
}

export function params(): Params {
  return new Params();
}
