import { appendFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { type CheckpointMeta, type SaveCheckpointInput, saveCheckpoint } from './checkpoint.js';
import { type CollectEnvironmentOptions, collectEnvironment, type EnvironmentInfo } from './environment.js';

/** File names inside a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  results: 'results.json',
  environment: 'environment.json',
  checkpoint: 'checkpoint',
} as const;

export interface CreateRunDirectoryOptions {
  /** Replace a previous run in the same folder (default false: refuse). */
  overwrite?: boolean;
}

/**
 * The files of one run (layout in the package README):
 * `config.json`, `metrics.jsonl` (appended as training goes), `results.json`,
 * `environment.json` and `checkpoint/`. JSON files are replaced atomically.
 */
export class RunDirectory {
  private constructor(readonly dir: string) {}

  /** Creates (or, with `overwrite`, resets) the folder; refuses to mix with an earlier run. */
  static async create(dir: string, options: CreateRunDirectoryOptions = {}): Promise<RunDirectory> {
    const previous = [RUN_FILES.results, RUN_FILES.metrics, RUN_FILES.checkpoint];
    const found: string[] = [];
    for (const f of previous) {
      const s = await stat(join(dir, f)).catch(() => undefined);
      if (s && (s.isDirectory() || s.size > 0)) found.push(f);
    }
    if (found.length && !options.overwrite) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        file: dir,
        message: `the run directory already holds a run (${found.join(', ')})`,
        fix: 'choose a new run directory, or pass overwrite: true to replace it',
      });
    }
    await mkdir(dir, { recursive: true });
    for (const f of previous) await rm(join(dir, f), { recursive: true, force: true });
    await writeFile(join(dir, RUN_FILES.metrics), '');
    return new RunDirectory(dir);
  }

  get checkpointDir(): string {
    return join(this.dir, RUN_FILES.checkpoint);
  }

  writeConfig(config: unknown): Promise<void> {
    return this.writeJson(RUN_FILES.config, config);
  }

  /** Appends one JSON line to metrics.jsonl. */
  async appendMetrics(record: Record<string, unknown>): Promise<void> {
    await appendFile(join(this.dir, RUN_FILES.metrics), `${JSON.stringify(record)}\n`);
  }

  writeResults(results: unknown): Promise<void> {
    return this.writeJson(RUN_FILES.results, results);
  }

  async writeEnvironment(env: EnvironmentInfo | CollectEnvironmentOptions = {}): Promise<EnvironmentInfo> {
    const info = 'node' in env ? env : collectEnvironment(env);
    await this.writeJson(RUN_FILES.environment, info);
    return info;
  }

  saveCheckpoint(input: SaveCheckpointInput): Promise<CheckpointMeta> {
    return saveCheckpoint(this.checkpointDir, input);
  }

  /** Reads a JSON file of this run (e.g. results.json), or undefined if absent. */
  async readJson(name: string): Promise<unknown> {
    const text = await readFile(join(this.dir, name), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : JSON.parse(text);
  }

  private async writeJson(name: string, value: unknown): Promise<void> {
    const path = join(this.dir, name);
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(tmp, path);
  }
}
