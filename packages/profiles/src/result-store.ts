import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ProgressHandler, PromaxError } from '@promax/core';

/** Identity of one stored answer. */
export interface StoreKey {
  /** Entity id (user id, item id). */
  id: string;
  /** sha256 of model + system + user prompt text. */
  promptHash: string;
  model: string;
  /**
   * Which extra profile variant (1, 2, …) the answer is; absent for everything else (the main
   * profiles, re-ranking), so keys written before variants existed stay valid.
   */
  variant?: number;
}

export interface StoredUsage {
  promptTokens: number;
  completionTokens: number;
}

interface RecordBase {
  v: 1;
  key: StoreKey;
  /** What was asked: `item-profile`, `user-profile`, `rerank`, … */
  kind: string;
  /** Template id with version, e.g. `item-profile/books@profile-v1`. */
  templateId: string;
  /** Requests made for this answer (retries and repairs included). */
  attempts: number;
  /** Usage of all those requests. */
  usage: StoredUsage;
  /** `online` (chat completions) or `batch` (Batch API import). */
  source: 'online' | 'batch';
  /** ISO time of writing. */
  at: string;
}

export interface SuccessRecord<T = unknown> extends RecordBase {
  type: 'success';
  output: T;
  /** The raw answer text that was accepted. */
  raw: string;
}

export interface FailureRecord extends RecordBase {
  type: 'failure';
  error: { code: string; message: string; status?: number; details?: Record<string, unknown> };
  /** The last answer text, when there was one (e.g. malformed JSON). */
  raw?: string;
}

export type StoreRecord<T = unknown> = SuccessRecord<T> | FailureRecord;

/** Flat string key of a StoreKey (control characters cannot occur in hashes or ids we write). */
export function storeKeyString(k: StoreKey): string {
  const base = `${k.id}\u0001${k.promptHash}\u0001${k.model}`;
  return k.variant === undefined ? base : `${base}\u0001${k.variant}`;
}

function isRecord(x: unknown): x is StoreRecord {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  const k = r.key as Record<string, unknown> | undefined;
  return (
    (r.type === 'success' || r.type === 'failure') &&
    typeof k === 'object' &&
    k !== null &&
    typeof k.id === 'string' &&
    typeof k.promptHash === 'string' &&
    typeof k.model === 'string' &&
    (k.variant === undefined || (Number.isInteger(k.variant) && (k.variant as number) > 0))
  );
}

/**
 * Append-only JSON-lines store of LLM answers keyed by (entity id, prompt hash, model[, variant]).
 * Every record is appended and fsynced before `append` resolves, so a job that acknowledges
 * an answer has it on disk; a process killed mid-write leaves at most a torn last line, which
 * is skipped on the next open (a newline is written first so it stays isolated). The latest
 * record of a key wins, except that a success is never replaced by a later failure.
 * One process at a time should write a store.
 */
export class ResultStore {
  private readonly latest = new Map<string, StoreRecord>();
  private handle: FileHandle | undefined;
  private needsNewline: boolean;
  private writes: Promise<void> = Promise.resolve();
  /** Lines that could not be read (a torn last line or damaged lines). */
  readonly skippedLines: number;

  private constructor(
    readonly path: string,
    records: StoreRecord[],
    skipped: number,
    needsNewline: boolean,
  ) {
    for (const r of records) this.remember(r);
    this.skippedLines = skipped;
    this.needsNewline = needsNewline;
  }

  /** Opens (or creates) a store file and reads what it holds. */
  static async open(path: string, options: { onProgress?: ProgressHandler } = {}): Promise<ResultStore> {
    await mkdir(dirname(path), { recursive: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new PromaxError({
          code: 'INVALID_FILE',
          message: `cannot read the result store: ${(e as Error).message}`,
          file: path,
          cause: e,
        });
      }
    }
    const lines = text.split('\n');
    const records: StoreRecord[] = [];
    let skipped = 0;
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (isRecord(parsed)) records.push(parsed);
      else {
        skipped++;
        const torn = i === lines.length - 1;
        options.onProgress?.({
          type: 'warning',
          code: torn ? 'TORN_LINE' : 'BAD_LINE',
          message: `${torn ? 'skipping a torn last line' : `skipping unreadable line ${i + 1}`} of ${path}`,
        });
      }
    });
    return new ResultStore(path, records, skipped, text.length > 0 && !text.endsWith('\n'));
  }

  private remember(r: StoreRecord): void {
    const k = storeKeyString(r.key);
    const prev = this.latest.get(k);
    if (prev?.type === 'success' && r.type === 'failure') return;
    this.latest.set(k, r);
  }

  /** The winning record of a key. */
  get(key: StoreKey): StoreRecord | undefined {
    return this.latest.get(storeKeyString(key));
  }

  /** The stored success of a key, if any. */
  getSuccess<T = unknown>(key: StoreKey): SuccessRecord<T> | undefined {
    const r = this.get(key);
    return r?.type === 'success' ? (r as SuccessRecord<T>) : undefined;
  }

  /** All winning records (one per key), in first-written order. */
  records(): StoreRecord[] {
    return [...this.latest.values()];
  }

  get size(): number {
    return this.latest.size;
  }

  /** Appends one record durably (write + fsync) and then makes it visible. */
  append(record: StoreRecord): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const write = this.writes.then(async () => {
      if (!this.handle) this.handle = await open(this.path, 'a');
      const prefix = this.needsNewline ? '\n' : '';
      await this.handle.write(prefix + line);
      await this.handle.datasync();
      this.needsNewline = false;
      this.remember(record);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** Waits for pending writes and closes the file. */
  async close(): Promise<void> {
    await this.writes;
    await this.handle?.close();
    this.handle = undefined;
  }
}
