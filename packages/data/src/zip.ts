import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PromaxError } from '@promax/core';
import { crc32 } from './crc32.js';
import { invalidFile } from './files.js';

/** One member of a zip archive, decompressed on demand. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly size: number;
  readonly compressedSize: number;
  readonly crc32: number;
  /** Decompresses and CRC-checks the member. */
  read(): Uint8Array;
}

export interface ReadZipOptions {
  /** File name used in error messages. */
  file?: string;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/**
 * Lists the members of a zip archive held in memory (stored and deflate members, zip64 records).
 * Sizes and offsets come from the central directory, as every reader must do for archives
 * written with data descriptors.
 */
export function readZip(bytes: Uint8Array, options: ReadZipOptions = {}): ZipEntry[] {
  const file = options.file ?? '<zip>';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (message: string): PromaxError => invalidFile(file, message);
  const u64 = (at: number): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`zip64 field at byte ${at} is too large`);
    return Number(v);
  };

  const eocd = findEocd(view);
  if (eocd < 0) {
    throw bad(
      bytes.length < 22
        ? `too short to be a zip archive (${bytes.length} bytes)`
        : 'no zip end-of-central-directory record (not a zip/npz file, or truncated)',
    );
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === SIG_EOCD64_LOCATOR) {
    const at = u64(eocd - 20 + 8);
    if (at + 56 > bytes.length || view.getUint32(at, true) !== SIG_EOCD64) {
      throw bad('zip64 end-of-central-directory locator points outside the file');
    }
    count = u64(at + 32);
    cdSize = u64(at + 40);
    cdOffset = u64(at + 48);
  } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    throw bad('zip64 archive without its zip64 end-of-central-directory locator');
  }
  if (cdOffset + cdSize > bytes.length) throw bad('central directory lies outside the file (truncated?)');

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== SIG_CENTRAL) {
      throw bad(`central directory entry ${n} is damaged`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > bytes.length)
      throw bad(`central directory entry ${n} is truncated`);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: only the fields saturated in the fixed record are present, in this order
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === U32_MAX) {
          size = u64(q);
          q += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = u64(q);
          q += 8;
        }
        if (localOffset === U32_MAX) localOffset = u64(q);
      }
      e += 4 + len;
    }
    p = extraEnd + commentLen;
    if (flags & 1) {
      throw new PromaxError({
        code: 'UNSUPPORTED_FORMAT',
        message: `zip member ${name} is encrypted`,
        file,
        fix: 'write the archive without encryption',
      });
    }
    if (name.endsWith('/')) continue; // directory entry
    if (localOffset + 30 > bytes.length || view.getUint32(localOffset, true) !== SIG_LOCAL) {
      throw bad(`local header of member ${name} is missing (truncated?)`);
    }
    const dataStart =
      localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    if (dataStart + compressedSize > bytes.length) throw bad(`member ${name} is truncated`);
    const raw = bytes.subarray(dataStart, dataStart + compressedSize);
    entries.push({
      name,
      method,
      size,
      compressedSize,
      crc32: crc,
      read: () => inflateMember(raw, method, size, crc, name, file),
    });
  }
  return entries;
}

function findEocd(view: DataView): number {
  const last = view.byteLength - 22;
  const first = Math.max(0, last - 0xffff);
  for (let p = last; p >= first; p--) {
    if (view.getUint32(p, true) === SIG_EOCD && p + 22 + view.getUint16(p + 20, true) <= view.byteLength)
      return p;
  }
  return -1;
}

function inflateMember(
  raw: Uint8Array,
  method: number,
  size: number,
  crc: number,
  name: string,
  file: string,
): Uint8Array {
  let out: Uint8Array;
  if (method === 0) out = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  else if (method === 8) {
    try {
      const b = inflateRawSync(raw);
      out = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (cause) {
      throw invalidFile(file, `member ${name}: corrupt deflate data (${(cause as Error).message})`);
    }
  } else {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      message: `zip member ${name} uses compression method ${method}; only stored (0) and deflate (8) are supported`,
      file,
      fix: 'rewrite the archive with numpy.savez / savez_compressed',
    });
  }
  if (out.length !== size) {
    throw invalidFile(file, `member ${name}: expected ${size} bytes after decompression, got ${out.length}`);
  }
  if (crc32(out) !== crc) throw invalidFile(file, `member ${name}: CRC-32 mismatch (the data are damaged)`);
  return out;
}

export interface WriteZipOptions {
  /** 'deflate' (what numpy.savez_compressed writes) or 'stored' (numpy.savez). Default 'deflate'. */
  compression?: 'deflate' | 'stored';
  /** zlib level 0–9 for deflate (default 6). */
  level?: number;
  /** Write zip64 records even when the archive is small (they are written anyway when needed). */
  forceZip64?: boolean;
}

/**
 * Builds a zip archive in memory. Timestamps are fixed (1980-01-01) so the same input always
 * gives the same bytes.
 */
export function writeZip(
  members: ReadonlyArray<{ name: string; data: Uint8Array }>,
  options: WriteZipOptions = {},
): Uint8Array {
  const method = (options.compression ?? 'deflate') === 'deflate' ? 8 : 0;
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  let anyZip64 = options.forceZip64 ?? false;
  for (const m of members) {
    const name = encoder.encode(m.name);
    const crc = crc32(m.data);
    const body = method === 8 ? deflateRawSync(m.data, { level: options.level ?? 6 }) : m.data;
    const zip64 = anyZip64 || m.data.length >= U32_MAX || body.length >= U32_MAX || offset >= U32_MAX;
    anyZip64 ||= zip64;
    const utf8 = name.length !== m.name.length ? 0x0800 : 0;
    const version = zip64 ? 45 : 20;

    const local = Buffer.alloc(30 + name.length + (zip64 ? 20 : 0));
    local.writeUInt32LE(SIG_LOCAL, 0);
    local.writeUInt16LE(version, 4);
    local.writeUInt16LE(utf8, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time 00:00:00
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? U32_MAX : body.length, 18);
    local.writeUInt32LE(zip64 ? U32_MAX : m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(zip64 ? 20 : 0, 28);
    local.set(name, 30);
    if (zip64) {
      const q = 30 + name.length;
      local.writeUInt16LE(0x0001, q);
      local.writeUInt16LE(16, q + 2);
      local.writeBigUInt64LE(BigInt(m.data.length), q + 4);
      local.writeBigUInt64LE(BigInt(body.length), q + 12);
    }

    const central = Buffer.alloc(46 + name.length + (zip64 ? 28 : 0));
    central.writeUInt32LE(SIG_CENTRAL, 0);
    central.writeUInt16LE(version, 4); // made by: MS-DOS/FAT, spec version
    central.writeUInt16LE(version, 6);
    central.writeUInt16LE(utf8, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? U32_MAX : body.length, 20);
    central.writeUInt32LE(zip64 ? U32_MAX : m.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(zip64 ? 28 : 0, 30);
    central.writeUInt32LE(zip64 ? U32_MAX : offset, 42);
    central.set(name, 46);
    if (zip64) {
      const q = 46 + name.length;
      central.writeUInt16LE(0x0001, q);
      central.writeUInt16LE(24, q + 2);
      central.writeBigUInt64LE(BigInt(m.data.length), q + 4);
      central.writeBigUInt64LE(BigInt(body.length), q + 12);
      central.writeBigUInt64LE(BigInt(offset), q + 20);
    }
    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const cdOffset = offset;
  const cdSize = centrals.reduce((s, c) => s + c.length, 0);
  const tail: Uint8Array[] = [];
  if (anyZip64 || members.length >= U16_MAX) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(SIG_EOCD64, 0);
    rec.writeBigUInt64LE(44n, 4); // size of the remaining record
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(members.length), 24);
    rec.writeBigUInt64LE(BigInt(members.length), 32);
    rec.writeBigUInt64LE(BigInt(cdSize), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(SIG_EOCD64_LOCATOR, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
    anyZip64 = true;
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(SIG_EOCD, 0);
  eocd.writeUInt16LE(anyZip64 ? U16_MAX : members.length, 8);
  eocd.writeUInt16LE(anyZip64 ? U16_MAX : members.length, 10);
  eocd.writeUInt32LE(anyZip64 ? U32_MAX : cdSize, 12);
  eocd.writeUInt32LE(anyZip64 ? U32_MAX : cdOffset, 16);
  tail.push(eocd);
  const out = new Uint8Array(offset + cdSize + tail.reduce((s, t) => s + t.length, 0));
  let w = 0;
  for (const part of [...locals, ...centrals, ...tail]) {
    out.set(part, w);
    w += part.length;
  }
  return out;
}
