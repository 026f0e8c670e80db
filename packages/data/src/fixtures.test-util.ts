// Test helpers (not part of the package build): Python cross-checks, temp dirs, a pickle assembler.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let pythonReason: string | undefined | null = null;

/** Why python3 + numpy + scipy cannot be used for cross-checks, or undefined when they can. */
export function pythonUnavailable(): string | undefined {
  if (pythonReason !== null) return pythonReason;
  const r = spawnSync('python3', ['-c', 'import numpy, scipy.sparse'], { encoding: 'utf8' });
  pythonReason =
    r.error || r.status !== 0
      ? `python3 with numpy and scipy is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`
      : undefined;
  return pythonReason;
}

/** Runs a Python script (argv available as sys.argv[1:]) and returns its stdout; throws with stderr on failure. */
export function runPython(script: string, args: string[] = []): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(prefix = 'promax-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Assembles pickle opcodes by hand, for tests of the restricted reader. */
export class PickleBuilder {
  private readonly parts: number[] = [];

  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  proto(v: number): this {
    return this.op(0x80, v);
  }
  u32(n: number): this {
    return this.op(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    return this.op(0x4a).u32(n >>> 0);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return b.length < 256
      ? this.op(0x8c, b.length, ...b)
      : this.op(0x58)
          .u32(b.length)
          .op(...b);
  }
  bytes(b: Uint8Array): this {
    return b.length < 256
      ? this.op(0x43, b.length, ...b)
      : this.op(0x42)
          .u32(b.length)
          .op(...b);
  }
  none(): this {
    return this.op(0x4e);
  }
  bool(v: boolean): this {
    return this.op(v ? 0x88 : 0x89);
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  tupleN(n: 1 | 2 | 3): this {
    return this.op(0x84 + n);
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  stackGlobal(module: string, name: string): this {
    return this.str(module).str(name).op(0x93);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  newobj(): this {
    return this.op(0x81);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  setitems(): this {
    return this.op(0x75);
  }
  memoize(): this {
    return this.op(0x94);
  }
  stop(): this {
    return this.op(0x2e);
  }
  /** An ndarray as numpy pickles it: _reconstruct(ndarray, (0,), b'b') + BUILD state. */
  ndarray(
    raw: Uint8Array,
    shape: number[],
    spec: string,
    order: '<' | '>' | '|' = '<',
    fortran = false,
    intFlags = false,
  ): this {
    this.stackGlobal('numpy.core.multiarray', '_reconstruct')
      .stackGlobal('numpy', 'ndarray')
      .int(0)
      .tupleN(1);
    this.bytes(new Uint8Array([0x62]))
      .tupleN(3)
      .reduce();
    this.mark().int(1).mark();
    for (const s of shape) this.int(s);
    this.tuple();
    this.stackGlobal('numpy', 'dtype').str(spec);
    if (intFlags) this.int(0).int(1);
    else this.bool(false).bool(true);
    this.tupleN(3).reduce();
    this.mark().int(3).str(order).none().none().none().int(-1).int(-1).int(0).tuple().build();
    return this.bool(fortran).bytes(raw).tuple().build();
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
