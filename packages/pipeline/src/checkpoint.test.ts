import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromaxError, Rng } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { decodeNpyFloat32, encodeNpyFloat32 } from './npy-float32.js';
import type { StateDict } from './trainable.js';

const root = await mkdtemp(join(tmpdir(), 'promax-ckpt-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function randomState(seed: number): StateDict {
  const rng = new Rng(seed);
  const user = new Float32Array(7 * 5).map(() => rng.nextNormal());
  const bits = new Uint32Array([0x7fc00001, 0xffc12345, 0x80000000, 0x00000001, 0x7f7fffff, 0xff800000]);
  return {
    user_emb: { shape: [7, 5], data: user },
    'adam.m/item_emb': { shape: [3, 2], data: new Float32Array(bits.buffer) }, // NaN payloads, -0, denormal, max, -inf
    scalar: { shape: [], data: Float32Array.of(Math.PI) },
    vec: { shape: [4], data: Float32Array.of(1, 2, 3, 4) },
    empty: { shape: [0, 3], data: new Float32Array(0) },
  };
}

describe('npy codec', () => {
  it('writes the NumPy v1.0 header exactly and aligns the data to 64 bytes', () => {
    const bytes = encodeNpyFloat32([2, 3], new Float32Array(6));
    const headerLen = bytes[8] | (bytes[9] << 8);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect(header.endsWith('\n')).toBe(true);
    expect((10 + headerLen) % 64).toBe(0);
    expect(new TextDecoder().decode(encodeNpyFloat32([4], new Float32Array(4)))).toMatch(/'shape': \(4,\)/);
    expect(new TextDecoder().decode(encodeNpyFloat32([], new Float32Array(1)))).toMatch(/'shape': \(\)/);
  });

  it('rejects other dtypes, Fortran order and truncation, naming the file', () => {
    const good = encodeNpyFloat32([2], Float32Array.of(1, 2));
    const patch = (from: string, to: string) => {
      const text = new TextDecoder('latin1').decode(good).replace(from, to);
      return Uint8Array.from(text, (c) => c.charCodeAt(0));
    };
    expect(() => decodeNpyFloat32(patch("'<f4'", "'<f8'"), 'w.npy')).toThrow(/dtype <f8 .*file w\.npy/);
    expect(() => decodeNpyFloat32(patch('False', 'True '), 'w.npy')).toThrow(/Fortran/);
    expect(() => decodeNpyFloat32(good.subarray(0, good.length - 1), 'w.npy')).toThrow(
      /truncated: shape \(2\) needs 8 bytes, found 7 \(file w\.npy\)/,
    );
    expect(() => decodeNpyFloat32(Uint8Array.of(1, 2, 3), 'w.npy')).toThrow(/not a NumPy .npy file.*w\.npy/);
  });
});

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips bit-exactly, with meta.json holding config, shapes, epoch and id maps', async () => {
    const dir = join(root, 'a', 'checkpoint');
    const state = randomState(1);
    const config = { trainer: { lr: 0.001 }, model: 'mf' };
    await saveCheckpoint(dir, {
      state,
      epoch: 12,
      config,
      idMaps: { users: ['u0', 'u1'], items: BigInt64Array.of(5n, 9n) },
    });
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([
      'adam.m_item_emb.npy',
      'empty.npy',
      'meta.json',
      'scalar.npy',
      'user_emb.npy',
      'vec.npy',
    ]);
    const { state: back, meta } = await loadCheckpoint(dir, { expect: state });
    expect(meta).toMatchObject({ format: 'promax-checkpoint', version: 1, epoch: 12, config });
    expect(meta.idMaps).toEqual({ users: ['u0', 'u1'], items: ['5', '9'] });
    expect(meta.tensors['adam.m/item_emb']).toEqual({
      file: 'adam.m_item_emb.npy',
      shape: [3, 2],
      dtype: 'float32',
    });
    expect(Object.keys(back).sort()).toEqual(Object.keys(state).sort());
    for (const [name, t] of Object.entries(state)) {
      expect(back[name].shape).toEqual(t.shape);
      expect(bytesOf(back[name].data)).toEqual(bytesOf(t.data));
    }
  });

  it('replaces an existing checkpoint and keeps colliding names apart', async () => {
    const dir = join(root, 'b');
    await saveCheckpoint(dir, { state: randomState(1) });
    const state: StateDict = {
      'a/b': { shape: [1], data: Float32Array.of(1) },
      a_b: { shape: [1], data: Float32Array.of(2) },
      A_B: { shape: [1], data: Float32Array.of(3) },
    };
    await saveCheckpoint(dir, { state, epoch: 3 });
    expect((await readdir(dir)).sort()).toEqual(['A_B~3.npy', 'a_b.npy', 'a_b~2.npy', 'meta.json']);
    expect((await readdir(root)).filter((f) => f.includes('tmp') || f.includes('old'))).toEqual([]);
    const { state: back } = await loadCheckpoint(dir);
    expect([back['a/b'].data[0], back.a_b.data[0], back.A_B.data[0]]).toEqual([1, 2, 3]);
  });

  it('names the file and the mismatch on invalid checkpoints', async () => {
    const dir = join(root, 'c');
    const state = randomState(2);
    await saveCheckpoint(dir, { state, epoch: 1 });
    const code = async (p: Promise<unknown>) => {
      const e = await p.then(
        () => undefined,
        (x: unknown) => x,
      );
      if (!PromaxError.isInstance(e)) throw new Error(`expected a PromaxError, got ${String(e)}`);
      return e;
    };

    const wrongShape = await code(loadCheckpoint(dir, { expect: { ...state, user_emb: { shape: [7, 6] } } }));
    expect(wrongShape.code).toBe('SHAPE_MISMATCH');
    expect(wrongShape.file).toBe(join(dir, 'user_emb.npy'));
    expect(wrongShape.message).toMatch(
      /"user_emb" has shape \[7, 5\] in the checkpoint but the model expects \[7, 6\]/,
    );

    const { vec: _vec, ...fewer } = state;
    expect((await code(loadCheckpoint(dir, { expect: fewer }))).message).toMatch(
      /has parameter "vec", which the model does not/,
    );
    expect(
      (await code(loadCheckpoint(dir, { expect: { ...state, extra: { shape: [1] } } }))).message,
    ).toMatch(/"extra" is missing from the checkpoint/);

    const metaPath = join(dir, 'meta.json');
    const meta = JSON.parse(await readFile(metaPath, 'utf8'));
    meta.tensors.vec.shape = [5];
    await writeFile(metaPath, JSON.stringify(meta));
    const inconsistent = await code(loadCheckpoint(dir));
    expect(inconsistent.code).toBe('INVALID_FILE');
    expect(inconsistent.file).toBe(join(dir, 'vec.npy'));
    expect(inconsistent.message).toMatch(/holds shape \[4\] but meta\.json records \[5\]/);

    await rm(join(dir, 'vec.npy'));
    const missing = await code(loadCheckpoint(dir));
    expect(missing.code).toBe('FILE_NOT_FOUND');
    expect(missing.file).toBe(join(dir, 'vec.npy'));

    meta.tensors.vec.file = '../escape.npy';
    await writeFile(metaPath, JSON.stringify(meta));
    expect((await code(loadCheckpoint(dir))).message).toMatch(/invalid entry for tensor "vec"/);
    await writeFile(metaPath, '{');
    expect((await code(loadCheckpoint(dir))).file).toBe(metaPath);
    expect((await code(loadCheckpoint(join(root, 'nope')))).code).toBe('FILE_NOT_FOUND');
  });

  it('refuses a state whose shape does not match its data', async () => {
    await expect(
      saveCheckpoint(join(root, 'd'), { state: { w: { shape: [2, 2], data: new Float32Array(3) } } }),
    ).rejects.toThrow(/"w" has shape \[2, 2\] but 3 values/);
  });
});
