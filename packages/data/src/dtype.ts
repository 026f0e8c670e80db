import { type AnyTypedArray, type DType, type NdArray, PromaxError, shapeSize } from '@promax/core';
import { invalidFile } from './files.js';

/** NumPy byte-order character: little, big, or not applicable (one-byte types). */
export type ByteOrder = '<' | '>' | '|';

/** A NumPy array of fixed-width strings (`S` bytes decoded as Latin-1, `U` unicode), C order. */
export interface NpyStringArray {
  readonly dtype: 'bytes' | 'unicode';
  readonly shape: readonly number[];
  readonly data: string[];
}

/** Any array an .npy file can hold that ProMax reads: numeric (C order) or fixed-width strings. */
export type NpyArray = NdArray | NpyStringArray;

export interface NumericDescr {
  readonly kind: 'numeric';
  readonly dtype: DType;
  readonly itemsize: number;
  readonly byteOrder: ByteOrder;
}

export interface StringDescr {
  readonly kind: 'string';
  readonly dtype: 'bytes' | 'unicode';
  /** Bytes per element (4 per character for unicode). */
  readonly itemsize: number;
  readonly byteOrder: ByteOrder;
}

export type Descr = NumericDescr | StringDescr;

const NUMERIC: Record<string, readonly [DType, number]> = {
  b1: ['bool', 1],
  '?': ['bool', 1],
  u1: ['uint8', 1],
  B: ['uint8', 1],
  i1: ['int8', 1],
  b: ['int8', 1],
  i2: ['int16', 2],
  u2: ['uint16', 2],
  i4: ['int32', 4],
  u4: ['uint32', 4],
  i8: ['int64', 8],
  f4: ['float32', 4],
  f8: ['float64', 8],
};

const CODE_OF: Record<DType, string> = {
  bool: 'b1',
  uint8: 'u1',
  int8: 'i1',
  int16: 'i2',
  uint16: 'u2',
  int32: 'i4',
  uint32: 'u4',
  int64: 'i8',
  float32: 'f4',
  float64: 'f8',
};

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses a NumPy type string such as `<f4`, `|b1`, `>i8`, `|S3`, `<U5`. `defaultOrder` applies
 * when the string carries no byte-order character (as in pickled `dtype('f8', …)`).
 */
export function parseDescr(descr: string, file: string, defaultOrder: ByteOrder = '<'): Descr {
  let order: ByteOrder = defaultOrder;
  let code = descr;
  const first = descr[0];
  if (first === '<' || first === '>' || first === '|' || first === '=') {
    order = first === '=' ? (HOST_LITTLE_ENDIAN ? '<' : '>') : first;
    code = descr.slice(1);
  }
  const numeric = NUMERIC[code];
  if (numeric) {
    const [dtype, itemsize] = numeric;
    return { kind: 'numeric', dtype, itemsize, byteOrder: itemsize === 1 ? '|' : order };
  }
  const str = /^([SUa])(\d+)$/.exec(code);
  if (str) {
    const n = Number(str[2]);
    if (str[1] === 'U') return { kind: 'string', dtype: 'unicode', itemsize: 4 * n, byteOrder: order };
    return { kind: 'string', dtype: 'bytes', itemsize: n, byteOrder: '|' };
  }
  throw new PromaxError({
    code: 'UNSUPPORTED_FORMAT',
    message: `NumPy dtype '${descr}' is not supported (supported: bool, int8/16/32/64, uint8/16/32, float32/64, fixed-width bytes/str)${code.startsWith('O') ? '; object arrays need pickle and are refused' : ''}`,
    file,
    fix: 'convert the array to a supported numeric dtype (e.g. arr.astype("float32")) and save it again',
  });
}

/** The NumPy type string for a dtype in the given byte order (`'|'` for one-byte types). */
export function descrOf(dtype: DType, byteOrder: '<' | '>' = '<'): string {
  const code = CODE_OF[dtype];
  const one = code.endsWith('1');
  return `${one ? '|' : byteOrder}${code}`;
}

export function itemsizeOf(dtype: DType): number {
  return NUMERIC[CODE_OF[dtype]][1];
}

/** Wraps an aligned buffer as the typed array of `dtype`. */
export function typedArrayOf(dtype: DType, buffer: ArrayBuffer, length: number): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, length);
    case 'float64':
      return new Float64Array(buffer, 0, length);
    case 'int32':
      return new Int32Array(buffer, 0, length);
    case 'int64':
      return new BigInt64Array(buffer, 0, length);
    case 'int8':
      return new Int8Array(buffer, 0, length);
    case 'int16':
      return new Int16Array(buffer, 0, length);
    case 'uint16':
      return new Uint16Array(buffer, 0, length);
    case 'uint32':
      return new Uint32Array(buffer, 0, length);
    default:
      return new Uint8Array(buffer, 0, length);
  }
}

function swapBytes(bytes: Uint8Array, itemsize: number): void {
  if (itemsize === 1) return;
  for (let p = 0; p + itemsize <= bytes.length; p += itemsize) {
    for (let a = p, b = p + itemsize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Decodes raw element bytes (as stored in .npy files and pickles) into a C-order array,
 * copying into aligned native-endian memory and transposing Fortran-order data.
 */
export function decodeRaw(
  raw: Uint8Array,
  descr: Descr,
  shape: readonly number[],
  fortranOrder: boolean,
  file: string,
): NpyArray {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw invalidFile(file, `invalid array shape (${shape.join(', ')})`);
  }
  const count = shapeSize(shape);
  const need = count * descr.itemsize;
  if (raw.length < need) {
    throw invalidFile(
      file,
      `array data truncated: shape (${shape.join(', ')}) needs ${need} bytes, found ${raw.length}`,
    );
  }
  if (descr.kind === 'string') {
    const out = decodeStrings(raw, descr, count);
    return {
      dtype: descr.dtype,
      shape: [...shape],
      data: fortranOrder ? fortranToC(out, shape, new Array<string>(count)) : out,
    };
  }
  const bytes = new Uint8Array(need);
  bytes.set(raw.subarray(0, need));
  if (descr.byteOrder !== '|' && (descr.byteOrder === '<') !== HOST_LITTLE_ENDIAN)
    swapBytes(bytes, descr.itemsize);
  let data = typedArrayOf(descr.dtype, bytes.buffer, count);
  if (fortranOrder && shape.length > 1) {
    const ctor = data.constructor as new (n: number) => AnyTypedArray;
    data = fortranToC(data, shape, new ctor(count));
  }
  return { dtype: descr.dtype, shape: [...shape], data } as NdArray;
}

function decodeStrings(raw: Uint8Array, descr: StringDescr, count: number): string[] {
  const out = new Array<string>(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const little = descr.byteOrder !== '>';
  for (let k = 0; k < count; k++) {
    const start = k * descr.itemsize;
    let s = '';
    if (descr.dtype === 'bytes') {
      let end = start + descr.itemsize;
      while (end > start && raw[end - 1] === 0) end--;
      for (let p = start; p < end; p++) s += String.fromCharCode(raw[p]);
    } else {
      const cps: number[] = [];
      for (let p = start; p < start + descr.itemsize; p += 4) cps.push(view.getUint32(p, little));
      while (cps.length > 0 && cps[cps.length - 1] === 0) cps.pop();
      s = String.fromCodePoint(...cps);
    }
    out[k] = s;
  }
  return out;
}

/** Encodes string elements at fixed width (`S`: Latin-1 bytes, `U`: UCS-4 little-endian). */
export function encodeStrings(arr: NpyStringArray): { descr: string; bytes: Uint8Array } {
  if (arr.dtype === 'bytes') {
    const width = Math.max(1, ...arr.data.map((s) => s.length));
    const bytes = new Uint8Array(width * arr.data.length);
    arr.data.forEach((s, k) => {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 255)
          throw new PromaxError({
            code: 'INVALID_ARGUMENT',
            message: `bytes array element ${k} has a character above U+00FF`,
            fix: "use dtype 'unicode'",
          });
        bytes[k * width + i] = c;
      }
    });
    return { descr: `|S${width}`, bytes };
  }
  const cps = arr.data.map((s) => Array.from(s, (ch) => ch.codePointAt(0) ?? 0));
  const width = Math.max(1, ...cps.map((c) => c.length));
  const bytes = new Uint8Array(4 * width * arr.data.length);
  const view = new DataView(bytes.buffer);
  cps.forEach((c, k) => {
    c.forEach((cp, i) => {
      view.setUint32(4 * (k * width + i), cp, true);
    });
  });
  return { descr: `<U${width}`, bytes };
}

/** Reorders Fortran-order (column-major) elements into C order (row-major). */
export function fortranToC<T extends { length: number; [i: number]: unknown }>(
  src: T,
  shape: readonly number[],
  out: T,
): T {
  const nd = shape.length;
  const n = src.length;
  if (nd === 2) {
    const rows = shape[0];
    const cols = shape[1];
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = src[j * rows + i];
    return out;
  }
  const fStride = new Array<number>(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fStride[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    out[c] = src[f];
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]++;
      f += fStride[k];
      if (idx[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** Bytes of a numeric array in the requested byte order (a copy when swapping). */
export function encodeNumeric(arr: NdArray, byteOrder: '<' | '>' = '<'): Uint8Array {
  const d = arr.data;
  const view = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const itemsize = itemsizeOf(arr.dtype);
  if (itemsize === 1 || (byteOrder === '<') === HOST_LITTLE_ENDIAN) return view;
  const copy = view.slice();
  swapBytes(copy, itemsize);
  return copy;
}

/** True for the string (`S`/`U`) arrays an .npy/.npz may hold. */
export function isStringArray(a: NpyArray): a is NpyStringArray {
  return a.dtype === 'bytes' || a.dtype === 'unicode';
}

/** Converts any numeric array to plain numbers (int64 via Number, checking it stays exact). */
export function toFloat64(a: NdArray, file: string, what: string): Float64Array {
  const d = a.data;
  if (d instanceof Float64Array) return d;
  if (d instanceof BigInt64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v > 9007199254740991n || v < -9007199254740991n)
        throw invalidFile(file, `${what}: int64 value ${v} is too large`);
      out[i] = Number(v);
    }
    return out;
  }
  return Float64Array.from(d as ArrayLike<number>);
}

/** Converts an integer index array to Int32Array, checking every value fits. */
export function toInt32(a: NdArray, file: string, what: string): Int32Array {
  const d = a.data;
  if (d instanceof Int32Array) return d;
  if (a.dtype === 'float32' || a.dtype === 'float64' || a.dtype === 'bool') {
    throw invalidFile(file, `${what} must be an integer array, found ${a.dtype}`);
  }
  const out = new Int32Array(d.length);
  if (d instanceof BigInt64Array) {
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v > 2147483647n || v < -2147483648n)
        throw invalidFile(file, `${what}[${i}] = ${v} does not fit in int32`);
      out[i] = Number(v);
    }
    return out;
  }
  const src = d as ArrayLike<number>;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v > 2147483647) throw invalidFile(file, `${what}[${i}] = ${v} does not fit in int32`);
    out[i] = v;
  }
  return out;
}
