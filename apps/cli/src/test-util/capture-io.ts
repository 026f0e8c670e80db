import type { Io } from '../io.js';

/** An in-memory Io for running CLI commands in tests. */
export function captureIo(cwd = process.cwd()): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    isTTY: false,
    cwd,
    env: { ...process.env },
    stdout: () => out,
    stderr: () => err,
  };
}
