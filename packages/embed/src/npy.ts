import { PromaxError } from '@promax/core';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Encodes a C-order little-endian float32 array as NumPy `.npy` (format 1.0): magic, version,
 * uint16 header length, a Python-literal header dict padded with spaces to a 64-byte boundary
 * and ending in '\n', then the raw data.
 */
export function encodeNpyFloat32(data: Float32Array, shape: readonly number[]): Uint8Array {
  let size = 1;
  for (const s of shape) {
    if (!(Number.isInteger(s) && s >= 0)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `npy shape must hold non-negative integers, got [${shape.join(', ')}]`,
      });
    }
    size *= s;
  }
  if (size !== data.length) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `npy shape [${shape.join(', ')}] holds ${size} values but the data has ${data.length}`,
    });
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  if (header.length > 65535) {
    throw new PromaxError({ code: 'INVALID_ARGUMENT', message: 'npy header too long for format 1.0' });
  }
  const out = new Uint8Array(MAGIC.length + 4 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, out.byteOffset + 10 + header.length, data.byteLength);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i] as number, true);
  return out;
}

export interface NpyFloat32 {
  shape: number[];
  data: Float32Array;
}

/** Decodes a `.npy` holding little-endian float32 in C order (format 1.x, 2.x or 3.x). */
export function decodeNpyFloat32(bytes: Uint8Array, file?: string): NpyFloat32 {
  const bad = (message: string): PromaxError => new PromaxError({ code: 'INVALID_FILE', message, file });
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('not a .npy file (bad magic)');
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw bad(`unsupported .npy format version ${major}`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(offset, offset + headerLen),
  );
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw bad(`unreadable .npy header ${header.trim()}`);
  if (descr !== '<f4') throw bad(`expected float32 '<f4' data, found '${descr}'`);
  if (fortran === 'True') throw bad('Fortran-order .npy arrays are not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number.parseInt(s, 10));
  let size = 1;
  for (const s of shape) size *= s;
  const start = offset + headerLen;
  if (bytes.length - start !== size * 4) {
    throw bad(`.npy data holds ${bytes.length - start} bytes, shape [${shape.join(', ')}] needs ${size * 4}`);
  }
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = view.getFloat32(start + i * 4, true);
  return { shape, data };
}
