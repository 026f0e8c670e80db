import { type NdArray, PromaxError } from '@promax/core';
import { type ByteOrder, decodeRaw, isStringArray, type NpyArray, parseDescr } from './dtype.js';
import { invalidFile, readFileBytes } from './files.js';

/*
 * A RESTRICTED pickle reader. It interprets the pickle opcodes as data and never executes
 * anything: the few callables it accepts (NumPy's array/dtype reconstructors, SciPy's coo/csr
 * classes, and `_codecs.encode` that protocol 2 uses for bytes) are re-implemented here, and any
 * other global is refused with 'UNSAFE_PICKLE' before it could be used.
 */

export type PickleKey = string | number | bigint | boolean | null;

/** What a pickle decodes to. Tuples, lists and sets become arrays; dicts become Maps. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleKey, PickleValue>
  | PickledArray
  | PickledSparse;

/** A numpy.ndarray (C order, native byte order). */
export interface PickledArray {
  readonly kind: 'ndarray';
  readonly array: NpyArray;
}

/** A scipy.sparse coo/csr matrix (or array) as its raw parts, not yet canonicalised. */
export interface PickledSparse {
  readonly kind: 'sparse';
  readonly format: 'coo' | 'csr';
  /** The global it was pickled under, e.g. `scipy.sparse._coo.coo_matrix`. */
  readonly className: string;
  readonly shape: readonly [number, number];
  readonly data: NdArray;
  readonly row?: NdArray;
  readonly col?: NdArray;
  readonly indices?: NdArray;
  readonly indptr?: NdArray;
}

type GlobalKind = 'reconstruct' | 'ndarray' | 'dtype' | 'frombuffer' | 'encode' | 'coo' | 'csr';

/** The only globals a pickle may name. */
const ALLOWED_GLOBALS: Readonly<Record<string, GlobalKind>> = {
  'numpy.core.multiarray._reconstruct': 'reconstruct',
  'numpy._core.multiarray._reconstruct': 'reconstruct',
  'numpy.ndarray': 'ndarray',
  'numpy.dtype': 'dtype',
  // protocol 5: numpy pickles contiguous arrays as _frombuffer(buffer, dtype, shape, order)
  'numpy.core.numeric._frombuffer': 'frombuffer',
  'numpy._core.numeric._frombuffer': 'frombuffer',
  // protocol 2 has no bytes opcode: Python writes bytes as _codecs.encode(str, 'latin1')
  '_codecs.encode': 'encode',
  'scipy.sparse._coo.coo_matrix': 'coo',
  'scipy.sparse.coo.coo_matrix': 'coo',
  'scipy.sparse._coo.coo_array': 'coo',
  'scipy.sparse._arrays.coo_array': 'coo',
  'scipy.sparse._csr.csr_matrix': 'csr',
  'scipy.sparse.csr.csr_matrix': 'csr',
  'scipy.sparse._csr.csr_array': 'csr',
  'scipy.sparse._arrays.csr_array': 'csr',
};

/** The module.name globals the reader accepts (for documentation and error messages). */
export function allowedPickleGlobals(): string[] {
  return Object.keys(ALLOWED_GLOBALS);
}

class Global {
  constructor(
    readonly kind: GlobalKind,
    readonly path: string,
  ) {}
}

class DTypeObj {
  byteOrder: ByteOrder | undefined;
  constructor(readonly spec: string) {}
}

class PendingArray {
  value: NpyArray | undefined;
}

class SparseObj {
  state: unknown;
  constructor(
    readonly format: 'coo' | 'csr',
    readonly path: string,
  ) {}
}

class PySet {
  readonly items: unknown[] = [];
}

function unsafeGlobal(file: string, path: string): PromaxError {
  return new PromaxError({
    code: 'UNSAFE_PICKLE',
    message: `refusing to load the pickle: it references the global '${path}'; only numpy arrays and scipy.sparse coo/csr matrices are accepted`,
    file,
    fix: 'convert it with trusted Python code to .npy/.npz (numpy.save, scipy.sparse.save_npz) and load that instead',
    details: { global: path, allowed: Object.keys(ALLOWED_GLOBALS) },
  });
}

function unsafeOpcode(file: string, what: string): PromaxError {
  return new PromaxError({
    code: 'UNSAFE_PICKLE',
    message: `refusing to load the pickle: it uses ${what}; only numpy arrays and scipy.sparse coo/csr matrices are accepted`,
    file,
    fix: 'convert it with trusted Python code to .npy/.npz (numpy.save, scipy.sparse.save_npz) and load that instead',
  });
}

const utf8 = new TextDecoder();

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Decodes pickle bytes under the restrictions above. */
export function parsePickle(bytes: Uint8Array, file = '<pickle>'): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let p = 0;
  let opPos = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const bad = (message: string): PromaxError =>
    invalidFile(
      file,
      `${message} (opcode at byte ${opPos})`,
      'the pickle is truncated or damaged; re-create it',
    );
  const need = (k: number): void => {
    if (k < 0 || p + k > n) throw bad(`pickle ends early: needs ${k} more bytes at byte ${p}, file has ${n}`);
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(n)) throw bad(`length ${v} exceeds the file size`);
    return Number(v);
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const out = bytes.subarray(p, p + k);
    p += k;
    return out;
  };
  const floor = (): number => (marks.length ? marks[marks.length - 1] : 0);
  const pop = (): unknown => {
    if (stack.length <= floor()) throw bad('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length <= floor()) throw bad('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw bad('MARK expected');
    return stack.splice(m);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) throw bad('unterminated text argument');
    const s = latin1(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const resolve = (module: string, name: string): Global => {
    const path = `${module}.${name}`;
    const kind = ALLOWED_GLOBALS[path];
    if (!kind) throw unsafeGlobal(file, path);
    return new Global(kind, path);
  };
  const ints = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
      throw bad(`${what} must be a tuple of non-negative integers`);
    }
    return v as number[];
  };
  const descrOf = (d: unknown): ReturnType<typeof parseDescr> => {
    if (!(d instanceof DTypeObj)) throw bad('array dtype is not a numpy.dtype');
    return parseDescr(d.spec, file, d.byteOrder ?? '<');
  };
  const rawBytes = (raw: unknown): Uint8Array => {
    if (raw instanceof Uint8Array) return raw;
    if (typeof raw === 'string') return Buffer.from(raw, 'latin1'); // Python 2 str
    if (Array.isArray(raw)) {
      throw new PromaxError({
        code: 'UNSUPPORTED_FORMAT',
        message: 'object-dtype numpy arrays are not supported',
        file,
        fix: 'store numeric arrays only',
      });
    }
    throw bad('array data is not a bytes object');
  };

  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global))
      throw bad('REDUCE/NEWOBJ applied to something that is not an accepted class or function');
    if (!Array.isArray(args)) throw bad(`arguments of ${fn.path} are not a tuple`);
    switch (fn.kind) {
      case 'reconstruct': {
        if (!(args[0] instanceof Global) || args[0].kind !== 'ndarray') {
          throw bad(`${fn.path} may only rebuild numpy.ndarray`);
        }
        return new PendingArray();
      }
      case 'dtype': {
        if (typeof args[0] !== 'string') throw bad('numpy.dtype needs a type string');
        return new DTypeObj(args[0]);
      }
      case 'frombuffer': {
        const [buf, dtype, shape, order] = args;
        const arr = new PendingArray();
        arr.value = decodeRaw(rawBytes(buf), descrOf(dtype), ints(shape, 'shape'), order === 'F', file);
        return arr;
      }
      case 'encode': {
        const [text, enc] = args;
        if (typeof text !== 'string') throw bad('_codecs.encode needs a str');
        const e = typeof enc === 'string' ? enc.toLowerCase().replace(/[-_]/g, '') : 'utf8';
        if (e === 'latin1' || e === 'iso88591') {
          const out = new Uint8Array(text.length);
          for (let i = 0; i < text.length; i++) {
            const c = text.charCodeAt(i);
            if (c > 255) throw bad('_codecs.encode: character outside latin-1');
            out[i] = c;
          }
          return out;
        }
        if (e === 'utf8') return new TextEncoder().encode(text);
        throw bad(`_codecs.encode: unsupported encoding ${String(enc)}`);
      }
      case 'coo':
      case 'csr':
        if (args.length !== 0)
          throw bad(`${fn.path} must be created without arguments (state comes by BUILD)`);
        return new SparseObj(fn.kind, fn.path);
      default:
        throw bad(`${fn.path} may only appear as the first argument of _reconstruct`);
    }
  };

  const build = (obj: unknown, state: unknown): void => {
    if (obj instanceof DTypeObj) {
      if (!Array.isArray(state) || typeof state[1] !== 'string')
        throw bad('numpy.dtype state must be a tuple');
      if ((state[2] ?? null) !== null || (state[3] ?? null) !== null) {
        throw new PromaxError({
          code: 'UNSUPPORTED_FORMAT',
          message: 'structured or sub-array numpy dtypes are not supported',
          file,
          fix: 'store plain numeric arrays',
        });
      }
      const o = state[1];
      if (o !== '<' && o !== '>' && o !== '|' && o !== '=') throw bad(`unknown dtype byte order '${o}'`);
      obj.byteOrder = o === '=' ? '<' : o;
      return;
    }
    if (obj instanceof PendingArray) {
      if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4)) {
        throw bad('numpy.ndarray state must be (version, shape, dtype, is_fortran, data)');
      }
      const [shape, dtype, fortran, raw] = state.length === 5 ? state.slice(1) : state;
      obj.value = decodeRaw(
        rawBytes(raw),
        descrOf(dtype),
        ints(shape, 'shape'),
        fortran === true || fortran === 1,
        file,
      );
      return;
    }
    if (obj instanceof SparseObj) {
      if (!(state instanceof Map)) throw bad(`${obj.path} state must be a dict`);
      obj.state = state;
      return;
    }
    throw bad('BUILD applied to an object that is not a numpy array, dtype or scipy sparse matrix');
  };

  for (;;) {
    if (p >= n) throw bad('pickle ends without a STOP opcode (truncated?)');
    opPos = p;
    const op = bytes[p++];
    switch (op) {
      case 0x80: {
        need(1);
        const v = bytes[p++];
        if (v > 5) {
          throw new PromaxError({
            code: 'UNSUPPORTED_FORMAT',
            message: `pickle protocol ${v} is not supported (2–5 are)`,
            file,
            fix: 'write it with pickle protocol 4 or 5',
          });
        }
        break;
      }
      case 0x95: // FRAME: the whole file is in memory, so frames are transparent
        u64();
        break;
      case 0x2e: {
        // STOP
        const result = pop();
        try {
          return finalize(result, bad, file);
        } catch (e) {
          // absurdly deep nesting (a denial-of-service pickle) must not escape as a RangeError
          if (e instanceof RangeError) throw bad('the pickle nests too deeply');
          throw e;
        }
      }
      case 0x28:
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length > floor()) stack.pop();
        else popMark();
        break;
      case 0x31:
        popMark();
        break;
      case 0x32:
        stack.push(top());
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        need(4);
        stack.push(view.getInt32(p, true));
        p += 4;
        break;
      case 0x4b:
        need(1);
        stack.push(bytes[p++]);
        break;
      case 0x4d:
        need(2);
        stack.push(view.getUint16(p, true));
        p += 2;
        break;
      case 0x8a: {
        need(1);
        stack.push(decodeLong(take(bytes[p++])));
        break;
      }
      case 0x8b: {
        need(4);
        const len = view.getInt32(p, true);
        p += 4;
        if (len < 0) throw bad('negative LONG4 length');
        stack.push(decodeLong(take(len)));
        break;
      }
      case 0x47:
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      case 0x8c:
        need(1);
        stack.push(utf8.decode(take(bytes[p++])));
        break;
      case 0x58: {
        need(4);
        const len = view.getUint32(p, true);
        p += 4;
        stack.push(utf8.decode(take(len)));
        break;
      }
      case 0x8d:
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x43:
        need(1);
        stack.push(take(bytes[p++]));
        break;
      case 0x42: {
        need(4);
        const len = view.getUint32(p, true);
        p += 4;
        stack.push(take(len));
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()));
        break;
      case 0x55:
        need(1);
        stack.push(latin1(take(bytes[p++])));
        break;
      case 0x54: {
        need(4);
        const len = view.getInt32(p, true);
        p += 4;
        if (len < 0) throw bad('negative BINSTRING length');
        stack.push(latin1(take(len)));
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break;
      case 0x5d:
      case 0x29:
        stack.push([]);
        break;
      case 0x8f:
        stack.push(new PySet());
        break;
      case 0x74:
      case 0x6c: // TUPLE, LIST
        stack.push(popMark());
        break;
      case 0x91: {
        const s = new PySet();
        s.items.push(...popMark());
        stack.push(s);
        break;
      }
      case 0x85:
        stack.push([pop()]);
        break;
      case 0x86: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x64: {
        const items = popMark();
        const m = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
        stack.push(m);
        break;
      }
      case 0x61: {
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw bad('APPEND to something that is not a list');
        list.push(v);
        break;
      }
      case 0x65: {
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw bad('APPENDS to something that is not a list');
        for (const it of items) list.push(it);
        break;
      }
      case 0x90: {
        const items = popMark();
        const set = top();
        if (!(set instanceof PySet)) throw bad('ADDITEMS to something that is not a set');
        for (const it of items) set.items.push(it);
        break;
      }
      case 0x73: {
        const v = pop();
        const k = pop();
        const d = top();
        if (!(d instanceof Map)) throw bad('SETITEM on something that is not a dict');
        d.set(k, v);
        break;
      }
      case 0x75: {
        const items = popMark();
        const d = top();
        if (!(d instanceof Map)) throw bad('SETITEMS on something that is not a dict');
        if (items.length % 2) throw bad('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x63: {
        const module = line();
        const name = line();
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw bad('STACK_GLOBAL needs two strings');
        stack.push(resolve(module, name));
        break;
      }
      case 0x94:
        memo.set(memo.size, top());
        break;
      case 0x71:
        need(1);
        memo.set(bytes[p++], top());
        break;
      case 0x72:
        need(4);
        memo.set(view.getUint32(p, true), top());
        p += 4;
        break;
      case 0x68:
      case 0x6a: {
        let key: number;
        if (op === 0x68) {
          need(1);
          key = bytes[p++];
        } else {
          need(4);
          key = view.getUint32(p, true);
          p += 4;
        }
        if (!memo.has(key)) throw bad(`memo entry ${key} is missing`);
        stack.push(memo.get(key));
        break;
      }
      case 0x52: {
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: {
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: {
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0)
          throw bad('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x98: // READONLY_BUFFER: a flag on an in-band buffer
        top();
        break;
      case 0x97:
        throw new PromaxError({
          code: 'UNSUPPORTED_FORMAT',
          message: 'pickles with out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported',
          file,
          fix: 'pickle without a buffer_callback',
        });
      case 0x69: {
        // INST (protocol 0/1): vet the class like GLOBAL, then treat it as a call
        const cls = resolve(line(), line());
        stack.push(call(cls, popMark()));
        break;
      }
      case 0x6f: {
        const items = popMark();
        stack.push(call(items[0], items.slice(1)));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        throw unsafeOpcode(file, 'an extension-registry code (EXT1/2/4) that names a global indirectly');
      case 0x50:
      case 0x51:
        throw unsafeOpcode(file, 'persistent ids (PERSID), which need an application-specific loader');
      case 0x49:
      case 0x4c:
      case 0x46:
      case 0x53:
      case 0x56:
      case 0x70:
      case 0x67:
        throw new PromaxError({
          code: 'UNSUPPORTED_FORMAT',
          message: `text-mode pickle opcode '${String.fromCharCode(op)}' (protocol 0) is not supported; protocols 2–5 are`,
          file,
          fix: 'write the pickle with protocol 4 or 5',
        });
      default:
        throw bad(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} — not a pickle, or damaged`);
    }
  }
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function finalize(root: unknown, bad: (m: string) => PromaxError, file: string): PickleValue {
  const done = new Map<unknown, PickleValue>();
  const conv = (v: unknown): PickleValue => {
    if (v === null || typeof v !== 'object') {
      if (
        typeof v === 'boolean' ||
        typeof v === 'number' ||
        typeof v === 'bigint' ||
        typeof v === 'string' ||
        v === null
      ) {
        return v;
      }
      throw bad(`unexpected value ${String(v)}`);
    }
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    if (v instanceof Uint8Array) return v;
    if (v instanceof PendingArray) {
      if (!v.value) throw bad('a numpy array never received its data (BUILD missing)');
      const out: PickledArray = { kind: 'ndarray', array: v.value };
      done.set(v, out);
      return out;
    }
    if (v instanceof SparseObj) {
      const out = sparseOf(v, bad, file);
      done.set(v, out);
      return out;
    }
    if (v instanceof DTypeObj) return v.spec;
    if (v instanceof Global) return v.path;
    if (Array.isArray(v) || v instanceof PySet) {
      const src = v instanceof PySet ? v.items : v;
      const out: PickleValue[] = [];
      done.set(v, out);
      for (const x of src) out.push(conv(x));
      return out;
    }
    if (v instanceof Map) {
      const out = new Map<PickleKey, PickleValue>();
      done.set(v, out);
      for (const [k, x] of v) out.set(conv(k) as PickleKey, conv(x));
      return out;
    }
    throw bad('unexpected object');
  };
  return conv(root);
}

function sparseOf(obj: SparseObj, bad: (m: string) => PromaxError, file: string): PickledSparse {
  const state = obj.state;
  if (!(state instanceof Map)) throw bad(`${obj.path} never received its state (BUILD missing)`);
  const arr = (key: string, v: unknown = state.get(key)): NdArray => {
    if (!(v instanceof PendingArray) || !v.value) throw bad(`${obj.path} state lacks the array '${key}'`);
    if (isStringArray(v.value)) throw bad(`${obj.path} '${key}' is not numeric`);
    return v.value;
  };
  const shape = state.get('_shape') ?? state.get('shape');
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !shape.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 0)
  ) {
    throw bad(`${obj.path} state lacks a 2-D '_shape'`);
  }
  const base = {
    kind: 'sparse' as const,
    className: obj.path,
    shape: [shape[0], shape[1]] as const,
    data: arr('data'),
  };
  if (obj.format === 'csr') {
    return { ...base, format: 'csr', indices: arr('indices'), indptr: arr('indptr') };
  }
  const coords = state.get('coords'); // scipy ≥ 1.13 keeps (row, col) as 'coords'
  if (Array.isArray(coords)) {
    if (coords.length !== 2)
      throw invalidFile(file, `${obj.path} has ${coords.length}-D coords; only 2-D is supported`);
    return { ...base, format: 'coo', row: arr('coords[0]', coords[0]), col: arr('coords[1]', coords[1]) };
  }
  return { ...base, format: 'coo', row: arr('row'), col: arr('col') };
}

/** Reads a pickle file with the restricted reader. */
export function readPickle(path: string): PickleValue {
  return parsePickle(readFileBytes(path), path);
}
