import { PromaxError } from '@promax/core';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Encodes a float32 C-order array as a NumPy .npy (format 1.0) file. */
export function encodeNpyFloat32(data: Float32Array, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, 10 + header.length); // little-endian hosts only (as onnxruntime)
  return out;
}

/** Decodes what {@link encodeNpyFloat32} wrote. */
export function decodeNpyFloat32(bytes: Uint8Array, file = 'npy'): { data: Float32Array; shape: number[] } {
  const bad = (why: string): never => {
    throw new PromaxError({ code: 'INVALID_FILE', file, message: `not a float32 .npy file: ${why}` });
  };
  if (!MAGIC.every((b, i) => bytes[i] === b)) bad('bad magic');
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  const header = String.fromCharCode(...bytes.subarray(10, 10 + len));
  if (!header.includes("'<f4'") || !header.includes('False')) bad(header);
  const m = /'shape': \(([^)]*)\)/.exec(header) ?? bad('no shape');
  const shape = (m as RegExpExecArray)[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const body = bytes.slice(10 + len);
  const data = new Float32Array(body.buffer, body.byteOffset, body.byteLength / 4);
  if (data.length !== shape.reduce((a, b) => a * b, 1)) bad('size does not match the shape');
  return { data, shape };
}
