// Tiny datasets and a child-process runner for the fault-injection tests (issue 16).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CsrMatrix, csrFromCoo, Rng } from '@promax/core';
import { saveSparseMatrix } from '@promax/data';

const U = 60;
const I = 40;

export interface TinyDatasetOptions {
  /** Write aug_trn_mat.npz with no edges at all. */
  emptyAug?: boolean;
  /** Users (rows) left without train items. */
  usersWithoutTrain?: number;
}

/** An RLMRec-layout dataset: 60 users in 4 groups liking 4 groups of 10 items (40 items). */
export function writeTinyDataset(options: TinyDatasetOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'promax-faults-data-'));
  const rng = new Rng(5);
  const parts: [number, number][][] = [[], [], []];
  for (let u = 0; u < U; u++) {
    const g = u % 4;
    const items = Array.from({ length: 10 }, (_, k) => g * 10 + k);
    rng.shuffle(items);
    if (u >= (options.usersWithoutTrain ?? 0)) for (const i of items.slice(0, 5)) parts[0].push([u, i]);
    for (const i of items.slice(5, 7)) parts[1].push([u, i]);
    for (const i of items.slice(7, 9)) parts[2].push([u, i]);
  }
  const csr = (pairs: [number, number][]): CsrMatrix =>
    csrFromCoo({ rows: U, cols: I, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  saveSparseMatrix(join(dir, 'trn_mat.npz'), csr(parts[0]));
  saveSparseMatrix(join(dir, 'val_mat.npz'), csr(parts[1]));
  saveSparseMatrix(join(dir, 'tst_mat.npz'), csr(parts[2]));
  if (options.emptyAug) saveSparseMatrix(join(dir, 'aug_trn_mat.npz'), csr([]));
  return dir;
}

export function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `promax-faults-${prefix}-`));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The built CLI (`pnpm test` builds first); undefined when it is missing. */
export const cliBin = (() => {
  const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
  return existsSync(bin) ? bin : undefined;
})();
export const noCliReason = cliBin ? undefined : 'apps/cli/dist/bin.js is not built (run pnpm build)';

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `promax ...args` in a child process. */
export function startCli(args: string[], options: { stdio?: 'pipe' } = {}): Child {
  let out = '';
  let err = '';
  const proc = spawn(process.execPath, [cliBin as string, ...args], {
    stdio: options.stdio ?? 'pipe',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  proc.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { proc, stdout: () => out, stderr: () => err, exit };
}

/** Resolves once `pattern` appears on the child's stderr (or it exits). */
export function waitForStderr(child: Child, pattern: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    if (pattern.test(child.stderr())) return resolve(true);
    const onData = () => {
      if (pattern.test(child.stderr())) {
        child.proc.stderr?.off('data', onData);
        resolve(true);
      }
    };
    child.proc.stderr?.on('data', onData);
    void child.exit.then(() => resolve(pattern.test(child.stderr())));
  });
}

export const trainArgs = (data: string, out: string, extra: string[] = []): string[] => [
  'train',
  '--dataset',
  data,
  '--model',
  'mf',
  '--set',
  'trainer.batchSize=64',
  '--out',
  out,
  ...extra,
];
