import { PromaxError, shapeSize } from '@promax/core';

// A deliberately tiny private .npy codec for checkpoints (float32, C order, little-endian).
// It sits behind these two functions so checkpoints can switch to @promax/data's readNpy /
// writeNpy without touching anything else.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encodes a float32 array as a NumPy v1.0 `.npy` file (`<f4`, C order). */
export function encodeNpyFloat32(shape: readonly number[], data: Float32Array): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // NumPy pads the header with spaces to a 64-byte boundary, ending in '\n'.
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const headerLen = header.length;
  const out = new Uint8Array(10 + headerLen + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >>> 8;
  for (let i = 0; i < headerLen; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) out.set(body, 10 + headerLen);
  else {
    const view = new DataView(out.buffer, 10 + headerLen);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  }
  return out;
}

/** Decodes a `.npy` holding little-endian float32 in C order; errors name `file`. */
export function decodeNpyFloat32(bytes: Uint8Array, file: string): { shape: number[]; data: Float32Array } {
  const fail = (message: string): never => {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file,
      message,
      fix: 'rewrite the checkpoint with saveCheckpoint (float32, C order .npy)',
    });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (bad magic)');
  const major = bytes[6];
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated .npy header');
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
    offset = 12;
  } else {
    return fail(`unsupported .npy version ${major}`);
  }
  if (bytes.length < offset + headerLen) fail('truncated .npy header');
  let header = '';
  for (let i = 0; i < headerLen; i++) header += String.fromCharCode(bytes[offset + i]);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return fail(`malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  if (descr !== '<f4') fail(`dtype ${descr} found, expected float32 '<f4'`);
  if (fortran === 'True') fail('Fortran-ordered array found, expected C order');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`invalid shape (${shapeText})`);
  const n = shapeSize(shape);
  const start = offset + headerLen;
  if (bytes.length !== start + n * 4) {
    fail(`holds ${bytes.length - start} data bytes, expected ${n * 4} for shape [${shape.join(', ')}]`);
  }
  const data = new Float32Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(bytes.subarray(start, start + n * 4));
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, n * 4);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, true);
  }
  return { shape, data };
}
