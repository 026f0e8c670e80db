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
  | 'UNSUPPORTED_COMBINATION';

export interface PromaxErrorOptions {
  code: PromaxErrorCode;
  message: string;
  /** What the caller should do about it ("pass --k as comma-separated integers"). */
  fix?: string;
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
  readonly file?: string;
  readonly field?: string;
  readonly details?: Record<string, unknown>;
  readonly isRetryable: boolean;

  constructor(opts: PromaxErrorOptions) {
    const where = [opts.file ? `file ${opts.file}` : '', opts.field ? `field ${opts.field}` : '']
      .filter(Boolean)
      .join(', ');
    const text = `${opts.message}${where ? ` (${where})` : ''}${opts.fix ? `. Fix: ${opts.fix}` : ''}`;
    super(text, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PromaxError';
    this.code = opts.code;
    this.fix = opts.fix;
    this.file = opts.file;
    this.field = opts.field;
    this.details = opts.details;
    this.isRetryable = opts.isRetryable ?? false;
  }

  static isInstance(error: unknown): error is PromaxError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
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
