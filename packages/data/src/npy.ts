import { type NdArray, PromaxError, shapeSize } from '@promax/core';
import {
  decodeRaw,
  descrOf,
  encodeNumeric,
  encodeStrings,
  isStringArray,
  type NpyArray,
  parseDescr,
} from './dtype.js';
import { invalidFile, readFileBytes, writeFileAtomic } from './files.js';
import { parsePyLiteral } from './py-literal.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyHeader {
  version: 1 | 2 | 3;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
}

/** Parses the header of an .npy file (format versions 1, 2 and 3). */
export function parseNpyHeader(bytes: Uint8Array, file = '<npy>'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw invalidFile(
      file,
      'not a NumPy .npy file (missing \\x93NUMPY magic)',
      'pass a file written by numpy.save',
    );
  }
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      message: `.npy format version ${major}.${bytes[7]} is not supported (1, 2 and 3 are)`,
      file,
      fix: 'save the array again with numpy.save',
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw invalidFile(file, 'truncated .npy header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length)
    throw invalidFile(file, `truncated .npy header (needs ${headerLen} bytes)`);
  const raw = bytes.subarray(start, start + headerLen);
  const text = major === 3 ? new TextDecoder().decode(raw) : Buffer.from(raw).toString('latin1');
  let dict: unknown;
  try {
    dict = parsePyLiteral(text.trim());
  } catch (e) {
    throw invalidFile(file, `unreadable .npy header: ${(e as Error).message}`);
  }
  const d = dict as Record<string, unknown>;
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict))
    throw invalidFile(file, '.npy header is not a dict');
  if (typeof d.descr !== 'string') {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      message: `.npy arrays with structured dtypes are not supported (descr ${JSON.stringify(d.descr)})`,
      file,
      fix: 'save each field as its own array',
    });
  }
  if (typeof d.fortran_order !== 'boolean')
    throw invalidFile(file, ".npy header lacks a boolean 'fortran_order'");
  const shape = d.shape;
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 0)) {
    throw invalidFile(file, ".npy header lacks a valid 'shape' tuple");
  }
  return {
    version: major,
    descr: d.descr,
    fortranOrder: d.fortran_order,
    shape: shape as number[],
    dataOffset: start + headerLen,
  };
}

/** Decodes an .npy file held in memory. Fortran-order data come back in C order. */
export function parseNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  const h = parseNpyHeader(bytes, file);
  const descr = parseDescr(h.descr, file);
  return decodeRaw(bytes.subarray(h.dataOffset), descr, h.shape, h.fortranOrder, file);
}

/** Reads an .npy file. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readFileBytes(path), path);
}

export interface EncodeNpyOptions {
  /** Format version; default: 1, or 2 when the header does not fit in 64 KiB. */
  version?: 1 | 2 | 3;
  /** Byte order of the stored data (default little-endian '<'). */
  byteOrder?: '<' | '>';
}

/** Encodes an array as .npy bytes (C order, header padded to a 64-byte boundary like NumPy). */
export function encodeNpy(arr: NpyArray, options: EncodeNpyOptions = {}): Uint8Array {
  const count = shapeSize(arr.shape);
  if (arr.data.length !== count) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `array has ${arr.data.length} elements but shape (${arr.shape.join(', ')}) needs ${count}`,
      fix: 'pass data whose length is the product of the shape',
    });
  }
  let descr: string;
  let body: Uint8Array;
  if (isStringArray(arr)) {
    ({ descr, bytes: body } = encodeStrings(arr));
  } else {
    descr = descrOf((arr as NdArray).dtype, options.byteOrder ?? '<');
    body = encodeNumeric(arr as NdArray, options.byteOrder ?? '<');
  }
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  let version = options.version ?? 1;
  const padded = (lenBytes: number): number => {
    const base = 8 + lenBytes + dict.length + 1;
    return dict.length + 1 + ((64 - (base % 64)) % 64);
  };
  if (version === 1 && padded(2) > 0xffff) {
    if (options.version === 1) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: 'header too large for .npy version 1',
        fix: 'use version 2',
      });
    }
    version = 2;
  }
  const lenBytes = version === 1 ? 2 : 4;
  const headerLen = padded(lenBytes);
  const out = new Uint8Array(8 + lenBytes + headerLen + body.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  const start = 8 + lenBytes;
  for (let i = 0; i < dict.length; i++) out[start + i] = dict.charCodeAt(i);
  out.fill(0x20, start + dict.length, start + headerLen - 1);
  out[start + headerLen - 1] = 0x0a;
  out.set(body, start + headerLen);
  return out;
}

/** Writes an .npy file. */
export function writeNpy(path: string, arr: NpyArray, options: EncodeNpyOptions = {}): void {
  writeFileAtomic(path, encodeNpy(arr, options));
}
