import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fsError, PromaxError } from '@promax/core';

/** Reads a whole file, turning a missing path into a PromaxError 'FILE_NOT_FOUND' that names it. */
export function readFileBytes(path: string): Uint8Array {
  let stat: ReturnType<typeof statSync> | undefined;
  try {
    stat = statSync(path);
  } catch {
    stat = undefined;
  }
  if (!stat) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      message: `no such file: ${path}`,
      file: path,
      fix: 'check the path (relative paths resolve against the current directory)',
    });
  }
  if (stat.isDirectory()) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: `${path} is a directory, expected a file`,
      file: path,
      fix: 'pass the path of a file inside it',
    });
  }
  return readFileSync(path);
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips when the bytes are gzip (by magic number, not by file name); otherwise returns them as-is. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (cause) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: `corrupt gzip data: ${(cause as Error).message}`,
      file,
      fix: 'the file is truncated or damaged; re-download or re-create it',
      cause,
    });
  }
}

/** Reads a text file, gunzipping it first when it is gzip-compressed. */
export function readTextFile(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  const bytes = maybeGunzip(readFileBytes(path), path);
  // Buffer's 'latin1' is true ISO-8859-1; TextDecoder('latin1') would be windows-1252.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
}

/** A PromaxError 'INVALID_FILE' naming the file. */
export function invalidFile(
  file: string,
  message: string,
  fix?: string,
  details?: Record<string, unknown>,
): PromaxError {
  return new PromaxError({
    code: 'INVALID_FILE',
    message,
    file,
    fix: fix ?? 'the file is truncated or not in the expected format; re-create it',
    details,
  });
}

let atomicCounter = 0;

/**
 * Writes a file so that no reader ever sees it half-written: the bytes go to a temporary sibling
 * that is renamed over `path` once complete. Filesystem faults (missing or read-only folder, full
 * disk, a file where a folder should be) become named PromaxErrors with the path and a fix; the
 * temporary file is removed and an earlier `path` is left as it was.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${atomicCounter++}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(e, path, 'write');
  }
}
