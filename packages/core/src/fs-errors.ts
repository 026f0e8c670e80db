import { PromaxError } from './errors.js';

/** What was being done to the path, for the message ("write", "read", "create the folder"). */
export type FsAction = 'read' | 'write' | 'create' | 'rename' | 'remove' | 'access';

const HINTS: Record<string, { what: string; fix: (path: string) => string }> = {
  ENOENT: { what: 'no such file or folder', fix: () => 'check the path, or create the folder first' },
  EACCES: {
    what: 'permission denied',
    fix: () => 'choose a folder you can write to, or change its permissions',
  },
  EPERM: {
    what: 'operation not permitted',
    fix: () => 'choose a folder you can write to, or change its permissions',
  },
  EROFS: { what: 'the file system is read-only', fix: () => 'choose a folder on a writable disk' },
  ENOSPC: {
    what: 'the disk is full',
    fix: () => 'free some disk space or choose a folder on another disk, then rerun',
  },
  EDQUOT: {
    what: 'the disk quota is exhausted',
    fix: () => 'free some space or choose a folder on another disk, then rerun',
  },
  EISDIR: { what: 'a folder is where a file was expected', fix: () => 'pass a file path, not a folder' },
  ENOTDIR: {
    what: 'a part of the path is a file, not a folder',
    fix: () => 'choose a path whose parent folders are folders, not files',
  },
  EEXIST: { what: 'it already exists', fix: () => 'choose another path, or remove the existing one' },
  ENOTEMPTY: { what: 'the folder is not empty', fix: () => 'choose an empty or new folder' },
  EMFILE: {
    what: 'too many open files',
    fix: () => 'raise the open-file limit (ulimit -n)',
  },
  EIO: { what: 'an I/O error occurred', fix: () => 'check the disk, then rerun' },
};

/** The errno code of a Node.js system error (`ENOENT`, `ENOSPC`, …), if it is one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/**
 * Turns a Node.js filesystem error into a named PromaxError with the path and a fix:
 * ENOENT → FILE_NOT_FOUND, every other errno (EACCES, EROFS, ENOSPC, EISDIR, ENOTDIR, …) → IO_ERROR.
 * PromaxErrors and non-system errors pass through unchanged.
 */
export function fsError(error: unknown, path: string, action: FsAction): unknown {
  if (PromaxError.isInstance(error)) return error;
  const code = errnoCode(error);
  if (code === undefined) return error;
  const hint = HINTS[code];
  const errPath = (error as { path?: unknown }).path;
  return new PromaxError({
    code: code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
    file: path,
    message: `cannot ${action}: ${hint?.what ?? `the system reported ${code}`}`,
    fix: hint?.fix(path) ?? 'check the path and the disk, then rerun',
    details: {
      errno: code,
      action,
      ...(typeof errPath === 'string' && errPath !== path ? { at: errPath } : {}),
    },
    isRetryable: code === 'ENOSPC' || code === 'EDQUOT' || code === 'EMFILE' || code === 'EIO',
    cause: error,
  });
}

/** Runs a filesystem operation, rethrowing its system errors as named PromaxErrors (see `fsError`). */
export function withFsErrors<T>(path: string, action: FsAction, op: () => T): T {
  try {
    const out = op();
    if (out instanceof Promise) {
      return out.catch((e: unknown) => {
        throw fsError(e, path, action);
      }) as T;
    }
    return out;
  } catch (e) {
    throw fsError(e, path, action);
  }
}
