/**
 * A minimal protobuf wire-format writer, enough to serialise ONNX models.
 * Field numbers live in model-proto.ts; this file knows only the wire format.
 */
export class ProtoWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Unsigned varint for non-negative safe integers; negative values use 64-bit two's complement. */
  varint(value: number | bigint): this {
    if (typeof value === 'bigint' || value < 0 || value > Number.MAX_SAFE_INTEGER) {
      let v = BigInt.asUintN(64, BigInt(value));
      this.reserve(10);
      while (v > 0x7fn) {
        this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.len++] = Number(v);
      return this;
    }
    this.reserve(10);
    let v = value;
    while (v > 0x7f) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
    return this;
  }

  tag(field: number, wireType: 0 | 1 | 2 | 5): this {
    return this.varint(field * 8 + wireType);
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2).varint(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const sub = new ProtoWriter();
    write(sub);
    return this.bytes(field, sub.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const sub = new ProtoWriter();
    for (const v of values) sub.varint(v);
    return this.bytes(field, sub.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const f = Float32Array.from(values);
    return this.bytes(field, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
