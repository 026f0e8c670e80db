import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';
import { pythonUnavailable, runPython, tempDir } from './fixtures.test-util.js';
import { readZip, writeZip } from './zip.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const members = [
  { name: 'a.npy', data: enc.encode('hello hello hello hello') },
  { name: 'empty.bin', data: new Uint8Array(0) },
  { name: 'dir/ünï.txt', data: Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 251) },
];

function expectError(fn: () => unknown, code: string, pattern: RegExp): PromaxError {
  try {
    fn();
  } catch (e) {
    expect(PromaxError.isInstance(e)).toBe(true);
    const err = e as PromaxError;
    expect(err.code).toBe(code);
    expect(err.message).toMatch(pattern);
    return err;
  }
  throw new Error('expected an error');
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('zip writer/reader', () => {
  for (const compression of ['stored', 'deflate'] as const) {
    for (const forceZip64 of [false, true]) {
      it(`round-trips ${compression}${forceZip64 ? ' with zip64 records' : ''}`, () => {
        const bytes = writeZip(members, { compression, forceZip64 });
        const entries = readZip(bytes);
        expect(entries.map((e) => e.name)).toEqual(members.map((m) => m.name));
        entries.forEach((e, k) => {
          expect(e.method).toBe(compression === 'stored' ? 0 : 8);
          expect(e.read()).toEqual(members[k].data);
        });
        const view = new DataView(bytes.buffer);
        // end-of-central-directory count is saturated only in zip64 archives
        expect(view.getUint16(bytes.length - 22 + 10, true)).toBe(forceZip64 ? 0xffff : members.length);
      });
    }
  }

  it('is deterministic and compresses repetitive data', () => {
    const big = [{ name: 'z', data: new Uint8Array(100_000) }];
    const a = writeZip(big);
    expect(a).toEqual(writeZip(big));
    expect(a.length).toBeLessThan(1000);
  });

  it('detects damage: CRC mismatch, truncation, garbage', () => {
    const bytes = writeZip(members, { compression: 'stored' });
    const bad = bytes.slice();
    bad[30 + 'a.npy'.length + 2] ^= 0xff; // flip a data byte of member a.npy
    expectError(
      () => readZip(bad, { file: 'x.npz' })[0].read(),
      'INVALID_FILE',
      /CRC-32 mismatch.*file x\.npz/,
    );
    expectError(
      () => readZip(bytes.subarray(0, bytes.length - 30), { file: 'cut.npz' }),
      'INVALID_FILE',
      /cut\.npz/,
    );
    expectError(
      () => readZip(enc.encode('definitely not a zip archive, just text'), { file: 'g.npz' }),
      'INVALID_FILE',
      /end-of-central-directory.*g\.npz/,
    );
    expectError(() => readZip(new Uint8Array(3), { file: 't.npz' }), 'INVALID_FILE', /too short/);
  });

  describe('interoperates with Python zipfile', () => {
    const reason = pythonUnavailable();
    if (reason) console.warn(`skipping Python zip cross-checks: ${reason}`);
    const tmp = tempDir();
    afterAll(tmp.cleanup);
    it.skipIf(reason)(
      'Python reads our stored, deflate and zip64 archives; we read its force_zip64 archive',
      () => {
        const files = (['stored', 'deflate'] as const).flatMap((c) =>
          [false, true].map((z) => {
            const p = join(tmp.dir, `${c}-${z}.zip`);
            writeFileSync(p, writeZip(members, { compression: c, forceZip64: z }));
            return p;
          }),
        );
        const out = runPython(
          `
import sys, zipfile, json, hashlib
res = []
for p in sys.argv[1:-1]:
    with zipfile.ZipFile(p) as z:
        assert z.testzip() is None
        res.append({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()})
with zipfile.ZipFile(sys.argv[-1], 'w', compression=zipfile.ZIP_DEFLATED) as z:
    with z.open('big.bin', 'w', force_zip64=True) as f:
        f.write(bytes(range(256)) * 40)
    z.writestr('s.txt', 'stored text', compress_type=zipfile.ZIP_STORED)
print(json.dumps(res))
`,
          [...files, join(tmp.dir, 'py.zip')],
        );
        const hashes = JSON.parse(out) as Record<string, string>[];
        expect(hashes).toHaveLength(4);
        for (const h of hashes) expect(Object.keys(h)).toEqual(members.map((m) => m.name));
        expect(new Set(hashes.map((h) => JSON.stringify(h))).size).toBe(1);
        const entries = readZip(readFileSync(join(tmp.dir, 'py.zip')));
        expect(entries.map((e) => e.name)).toEqual(['big.bin', 's.txt']);
        const big = entries[0].read();
        expect(big.length).toBe(256 * 40);
        expect(big[257]).toBe(1);
        expect(dec.decode(entries[1].read())).toBe('stored text');
      },
    );
  });
});
