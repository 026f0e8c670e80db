/**
 * The exit codes every `promax` command shares (documented in the CLI README and `--help`).
 * Scripts can rely on them: retry on PARTIAL, fix the input on BAD_INPUT.
 */
export const EXIT = {
  /** Everything asked for is done. */
  OK: 0,
  /** An unexpected internal failure (a bug: please report it with the stack trace). */
  INTERNAL: 1,
  /** Bad input: a flag, config, file or dataset problem named in the message; nothing ran or was lost. */
  BAD_INPUT: 2,
  /** Some items failed but every other result was stored; rerunning the same command retries only the failed ones. */
  PARTIAL: 3,
  /** Interrupted (SIGINT/SIGTERM) after writing what was finished; rerun to resume. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
