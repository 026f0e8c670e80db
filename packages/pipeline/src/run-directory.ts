import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, PromaxError } from '@promax/core';
import { type CheckpointMeta, type SaveCheckpointInput, saveCheckpoint } from './checkpoint.js';
import { type CollectEnvironmentOptions, collectEnvironment, type EnvironmentInfo } from './environment.js';

/** File names inside a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  results: 'results.json',
  environment: 'environment.json',
  checkpoint: 'checkpoint',
  manifest: 'manifest.json',
} as const;

/** Names that mark a folder as holding (part of) a run. */
const RUN_MARKERS = [
  RUN_FILES.results,
  RUN_FILES.metrics,
  RUN_FILES.checkpoint,
  RUN_FILES.manifest,
  RUN_FILES.config,
  'user_emb.npy',
  'item_emb.npy',
];

export interface CreateRunDirectoryOptions {
  /** Replace a previous run in the same folder once the new one is committed (default false: refuse). */
  overwrite?: boolean;
  /** The run id recorded in every file (default: a fresh time-ordered random id). */
  runId?: string;
}

/** `manifest.json`: every file of one run, with its size and SHA-256, under the run's id. */
export interface RunManifest {
  format: 'promax-run';
  version: 1;
  run_id: string;
  committed: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

/**
 * The files of one run (layout in the package README): `config.json`, `metrics.jsonl`
 * (appended as training goes), `results.json`, `environment.json`, `checkpoint/`, whatever the
 * caller adds (embeddings), and `manifest.json`.
 *
 * Transactional: `begin` validates the target first, then everything is written into a hidden
 * sibling folder (`.NAME.tmp-PID-RUNID`) that `commit` swaps in whole. Until then the target,
 * including an earlier run that `overwrite` will replace, is untouched; a kill at any point
 * leaves either the old run or the new one, never a mix. `abort` discards the staging folder.
 * Every JSON file carries the `run_id`; `manifest.json` lists every file's size and hash so
 * that readers (`checkRunDirectory`) refuse a folder whose files do not belong to one run.
 */
export class RunDirectory {
  private state: 'open' | 'committed' | 'aborted' = 'open';

  private constructor(
    /** Where the run ends up once committed. */
    readonly target: string,
    /** Where its files are written now (the staging folder until `commit`). */
    readonly dir: string,
    readonly runId: string,
  ) {}

  /**
   * Validates `target` (a folder, and not an earlier run unless `overwrite`) and opens a staging
   * folder beside it. Nothing in `target` is changed before `commit`.
   */
  static async begin(target: string, options: CreateRunDirectoryOptions = {}): Promise<RunDirectory> {
    await RunDirectory.validate(target, options);
    const parent = dirname(target);
    const runId = options.runId ?? newRunId();
    const staging = join(parent, `.${basename(target)}.tmp-${process.pid}-${runId}`);
    await mkdir(staging, { recursive: true }).catch((e: unknown) => {
      throw fsError(e, staging, 'create');
    });
    const run = new RunDirectory(target, staging, runId);
    try {
      await run.guard(RUN_FILES.metrics, 'write', () =>
        writeFile(join(staging, RUN_FILES.metrics), `${JSON.stringify({ type: 'run', run_id: runId })}\n`),
      );
    } catch (e) {
      await run.abort();
      throw e;
    }
    return run;
  }

  /**
   * The checks `begin` makes, without staging anything: `target` must be a folder (or absent, with
   * a creatable parent), holding no earlier run unless `overwrite`, and no unrelated files. Call it
   * before expensive preparation so that a bad `--out` fails first. Also cleans what a killed
   * writer left beside `target`.
   */
  static async validate(target: string, options: CreateRunDirectoryOptions = {}): Promise<void> {
    const parent = dirname(target);
    await mkdir(parent, { recursive: true }).catch((e: unknown) => {
      throw fsError(e, parent, 'create');
    });
    await recoverSiblings(target);
    const existing = await stat(target).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw fsError(e, target, 'read');
    });
    if (existing && !existing.isDirectory()) {
      throw new PromaxError({
        code: 'IO_ERROR',
        file: target,
        message: 'the run directory path is a file, not a folder',
        fix: 'choose a folder path for the run',
      });
    }
    if (existing) {
      const entries = await readdir(target).catch((e: unknown) => {
        throw fsError(e, target, 'read');
      });
      const runFiles = entries.filter((f) => RUN_MARKERS.includes(f));
      if (runFiles.length && !options.overwrite) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          file: target,
          message: `the run directory already holds a run (${runFiles.join(', ')})`,
          fixFor: {
            cli: 'choose a new --out folder, or pass --overwrite to replace it once the new run has finished',
            library:
              'choose a new run directory, or pass overwrite: true to replace it once the new run is committed',
          },
        });
      }
      const foreign = entries.filter((f) => !RUN_MARKERS.includes(f) && !isRunSideFile(f));
      if (!runFiles.length && foreign.length) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          file: target,
          message: `the folder holds files that are not part of a run (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}), which replacing it would lose`,
          fix: 'choose a new or empty folder for the run',
        });
      }
    }
  }

  /** @deprecated use `begin` (same behaviour: nothing appears in `dir` before `commit`). */
  static create(dir: string, options: CreateRunDirectoryOptions = {}): Promise<RunDirectory> {
    return RunDirectory.begin(dir, options);
  }

  get checkpointDir(): string {
    return join(this.dir, RUN_FILES.checkpoint);
  }

  /** Where a file of this run is written now (inside the staging folder until `commit`). */
  path(name: string): string {
    return join(this.dir, name);
  }

  get committed(): boolean {
    return this.state === 'committed';
  }

  writeConfig(config: unknown): Promise<void> {
    return this.writeJson(RUN_FILES.config, config);
  }

  /** Appends one JSON line to metrics.jsonl. */
  async appendMetrics(record: Record<string, unknown>): Promise<void> {
    await this.guard(RUN_FILES.metrics, 'write', () =>
      appendFile(join(this.dir, RUN_FILES.metrics), `${JSON.stringify(record)}\n`),
    );
  }

  writeResults(results: unknown): Promise<void> {
    return this.writeJson(RUN_FILES.results, results);
  }

  async writeEnvironment(env: EnvironmentInfo | CollectEnvironmentOptions = {}): Promise<EnvironmentInfo> {
    const info = 'node' in env ? env : collectEnvironment(env);
    await this.writeJson(RUN_FILES.environment, info);
    return info;
  }

  /** Saves `checkpoint/`; refuses non-finite tensors ('NON_FINITE'): a run never stores ±Inf/NaN. */
  async saveCheckpoint(input: SaveCheckpointInput): Promise<CheckpointMeta> {
    this.assertOpen();
    for (const [name, t] of Object.entries(input.state)) {
      const at = t.data.findIndex((v) => !Number.isFinite(v));
      if (at >= 0) {
        throw new PromaxError({
          code: 'NON_FINITE',
          field: `checkpoint.${name}`,
          message: `tensor "${name}" holds ${t.data[at]} at index ${at}; a run's checkpoint never stores non-finite values`,
          fix: 'save the last finite state (training that diverged: lower the learning rate)',
          details: { tensor: name, index: at },
        });
      }
    }
    const config =
      typeof input.config === 'object' && input.config !== null
        ? { run_id: this.runId, ...(input.config as Record<string, unknown>) }
        : input.config;
    return this.guard(RUN_FILES.checkpoint, 'write', () =>
      saveCheckpoint(this.checkpointDir, { ...input, config }),
    );
  }

  /** Reads a JSON file of this run (e.g. results.json), or undefined if absent. */
  async readJson(name: string): Promise<unknown> {
    const text = await readFile(join(this.dir, name), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /**
   * Writes `manifest.json` (every file's size and SHA-256 under the run id) and swaps the
   * staging folder in for `target`; an earlier run there is removed only after the swap.
   */
  async commit(): Promise<string> {
    this.assertOpen();
    const manifest: RunManifest = {
      format: 'promax-run',
      version: 1,
      run_id: this.runId,
      committed: new Date().toISOString(),
      files: {},
    };
    for (const file of await listFiles(this.dir)) {
      const bytes = await readFile(join(this.dir, file));
      manifest.files[file] = { bytes: bytes.length, sha256: sha256(bytes) };
    }
    await this.writeJson(RUN_FILES.manifest, manifest);
    const old = join(dirname(this.target), `.${basename(this.target)}.old-${process.pid}-${this.runId}`);
    const hadOld = await rename(this.target, old).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return false;
        throw fsError(e, this.target, 'rename');
      },
    );
    try {
      await rename(this.dir, this.target);
    } catch (e) {
      if (hadOld) await rename(old, this.target).catch(() => {});
      throw fsError(e, this.target, 'rename');
    }
    this.state = 'committed';
    if (hadOld) await rm(old, { recursive: true, force: true });
    return this.target;
  }

  /** Discards everything written so far; `target` keeps what it held before `begin`. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await rm(this.dir, { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        file: this.target,
        message: `the run ${this.runId} is already ${this.state}`,
        fix: 'begin a new RunDirectory for another run',
      });
    }
  }

  private async guard<T>(name: string, action: 'write', op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw fsError(e, join(this.dir, name), action);
    }
  }

  private async writeJson(name: string, value: unknown): Promise<void> {
    this.assertOpen();
    const path = join(this.dir, name);
    const tmp = `${path}.tmp-${process.pid}`;
    const body =
      typeof value === 'object' && value !== null && !Array.isArray(value) && name !== RUN_FILES.manifest
        ? { run_id: this.runId, ...(value as Record<string, unknown>) }
        : value;
    await this.guard(name, 'write', async () => {
      try {
        await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`);
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    });
  }
}

/** Files a report or another tool may leave beside a run (not part of it, safe to replace). */
function isRunSideFile(name: string): boolean {
  return name === 'report.md' || name === 'plots' || name === 'data.json' || name === 'environment.json';
}

function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans what a killed writer left beside `target`: staging folders of dead processes are
 * removed; an earlier run moved aside by a commit that died between its two renames is put back.
 */
async function recoverSiblings(target: string): Promise<void> {
  const parent = dirname(target);
  const prefix = `.${basename(target)}.`;
  const names = (await readdir(parent).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
  const targetExists = await stat(target).then(
    () => true,
    () => false,
  );
  for (const name of names) {
    const m = /^(tmp|old)-(\d+)-/.exec(name.slice(prefix.length));
    if (!m || isAlive(Number(m[2]))) continue;
    const path = join(parent, name);
    if (m[1] === 'old' && !targetExists) await rename(path, target).catch(() => {});
    else await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}

async function listFiles(root: string, under = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else if (entry.isFile() && rel !== RUN_FILES.manifest) out.push(rel);
  }
  return out.sort();
}

/** What `checkRunDirectory` found: the run id (undefined for runs written before manifests). */
export interface CheckedRun {
  runId: string | undefined;
  files: string[];
}

/**
 * Checks that the files in `dir` belong to one finished run: `manifest.json` exists, every file
 * it lists is there with its size and hash, no run file is there that it does not list, and every
 * JSON file carries the same `run_id`. Throws 'INCONSISTENT_RUN' naming the first offending file.
 * A folder written before manifests existed (results.json and no manifest.json) passes with
 * `runId: undefined`; a folder with neither is not a finished run.
 */
export function checkRunDirectory(dir: string): CheckedRun {
  const manifestPath = join(dir, RUN_FILES.manifest);
  const fail = (file: string, message: string): never => {
    throw new PromaxError({
      code: 'INCONSISTENT_RUN',
      file,
      message,
      fixFor: {
        cli: `train the run again into this folder (promax train … --out ${dir} --overwrite)`,
        library: 'write the run again with RunDirectory.begin(dir, { overwrite: true }) and commit()',
      },
    });
  };
  let text: string | undefined;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, manifestPath, 'read');
  }
  if (text === undefined) {
    const hasResults = (() => {
      try {
        return statSync(join(dir, RUN_FILES.results)).isFile();
      } catch {
        return false;
      }
    })();
    if (!hasResults) fail(dir, 'this folder holds no finished run (no manifest.json, no results.json)');
    return { runId: undefined, files: [] };
  }
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(text) as RunManifest;
  } catch {
    return fail(manifestPath, 'manifest.json is not valid JSON (cut short?)');
  }
  if (manifest?.format !== 'promax-run' || typeof manifest.run_id !== 'string' || !manifest.files) {
    fail(manifestPath, 'manifest.json is not a ProMax run manifest');
  }
  const runId = manifest.run_id;
  for (const [file, want] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return fail(path, `${file} is listed in run ${runId}'s manifest but missing`);
    }
    if (bytes.length !== want.bytes || sha256(bytes) !== want.sha256) {
      fail(path, `${file} does not belong to run ${runId}: its size or contents differ from the manifest`);
    }
    if (file.endsWith('.json')) {
      let json: unknown;
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        json = undefined;
      }
      const id = (json as { run_id?: unknown; config?: { run_id?: unknown } } | undefined) ?? {};
      const recorded = id.run_id ?? id.config?.run_id;
      if (recorded !== undefined && recorded !== runId) {
        fail(path, `${file} records run ${String(recorded)} but the manifest is run ${runId}`);
      }
    }
  }
  const listed = new Set(Object.keys(manifest.files));
  for (const file of listRunFilesSync(dir)) {
    if (!listed.has(file)) fail(join(dir, file), `${file} is not part of run ${runId} (not in its manifest)`);
  }
  return { runId, files: [...listed] };
}

/** Files a run writes (run markers and the checkpoint's contents), relative to `dir`. */
function listRunFilesSync(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  for (const name of RUN_MARKERS) {
    if (name === RUN_FILES.manifest) continue;
    let s: ReturnType<typeof statSync> | undefined;
    try {
      s = statSync(join(dir, name));
    } catch {
      s = undefined;
    }
    if (!s) continue;
    if (s.isDirectory()) walk(name);
    else out.push(name);
  }
  return out;
}
