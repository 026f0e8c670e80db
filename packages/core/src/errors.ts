const MARKER = Symbol.for('promax.error');

/** Stable machine-readable error codes used across all ProMax packages. */
export type PromaxErrorCode =
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'INVALID_FILE'
  | 'UNSUPPORTED_FORMAT'
  | 'UNSAFE_PICKLE'
  | 'FILE_NOT_FOUND'
  | 'DATASET_NOT_FOUND'
  | 'INVALID_DATA'
  | 'NON_FINITE'
  | 'ID_OUT_OF_RANGE'
  | 'SPLIT_OVERLAP'
  | 'INVALID_CONFIG'
  | 'ENGINE_ERROR'
  | 'API_ERROR'
  | 'RATE_LIMITED'
  | 'INVALID_RESPONSE'
  | 'ABORTED'
  | 'RUN_FAILED'
  | 'NOT_IMPLEMENTED'
  | 'MISSING_INPUT'
  | 'PLUGIN_NOT_FOUND'
  | 'INVALID_PLUGIN'
  | 'UNSUPPORTED_COMBINATION'
  | 'DIVERGED'
  | 'IO_ERROR'
  | 'INCONSISTENT_RUN';

/** Who reads a fix hint: a CLI user types flags, a library caller passes options. */
export type FixAudience = 'cli' | 'library';

export interface PromaxErrorOptions {
  code: PromaxErrorCode;
  message: string;
  /** What the caller should do about it ("pass --k as comma-separated integers"). */
  fix?: string;
  /**
   * The fix in the words of each interface, when they differ ("pass --overwrite" in the CLI,
   * "pass overwrite: true" to the library). `fix` (or `fixFor.library`) is what `message` holds.
   */
  fixFor?: { cli?: string; library?: string };
  /** The offending file, if any. */
  file?: string;
  /** The offending field / key / argument, if any. */
  field?: string;
  /** Structured extra data (shapes, line numbers, ids). */
  details?: Record<string, unknown>;
  /** Whether retrying the same operation might succeed. */
  isRetryable?: boolean;
  cause?: unknown;
}

/**
 * The one error family of ProMax. Recognise it with `PromaxError.isInstance(e)`
 * (works across duplicated package copies, unlike `instanceof`).
 */
export class PromaxError extends Error {
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: the brand isInstance() looks for across package copies
  private readonly [MARKER] = true;
  readonly code: PromaxErrorCode;
  readonly fix?: string;
  readonly fixFor?: { cli?: string; library?: string };
  /** The message without the fix hint. */
  readonly summary: string;
  readonly file?: string;
  readonly field?: string;
  readonly details?: Record<string, unknown>;
  readonly isRetryable: boolean;

  constructor(opts: PromaxErrorOptions) {
    const where = [opts.file ? `file ${opts.file}` : '', opts.field ? `field ${opts.field}` : '']
      .filter(Boolean)
      .join(', ');
    const summary = `${opts.message}${where ? ` (${where})` : ''}`;
    const fix = opts.fix ?? opts.fixFor?.library;
    super(
      `${summary}${fix ? `. Fix: ${fix}` : ''}`,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'PromaxError';
    this.code = opts.code;
    this.summary = summary;
    this.fix = fix;
    this.fixFor = opts.fixFor;
    this.file = opts.file;
    this.field = opts.field;
    this.details = opts.details;
    this.isRetryable = opts.isRetryable ?? false;
  }

  static isInstance(error: unknown): error is PromaxError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }

  /** The fix hint in the words of `audience`'s interface (falls back to the generic `fix`). */
  fixIn(audience: FixAudience): string | undefined {
    return this.fixFor?.[audience] ?? this.fix;
  }

  /** The message with the fix hint in the words of `audience`'s interface. */
  describe(audience: FixAudience): string {
    const fix = this.fixIn(audience);
    return `${this.summary}${fix ? `. Fix: ${fix}` : ''}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      fix: this.fix,
      file: this.file,
      field: this.field,
      details: this.details,
      isRetryable: this.isRetryable,
    };
  }
}

/** Throws a PromaxError when `cond` is false. */
export function ensure(cond: unknown, opts: PromaxErrorOptions): asserts cond {
  if (!cond) throw new PromaxError(opts);
}
