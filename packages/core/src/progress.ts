/**
 * Typed progress events. Libraries never print: long jobs report through an
 * `onProgress` callback and only the CLI renders them.
 */
export type ProgressEvent =
  | { type: 'task-start'; task: string; total?: number; unit?: string }
  | {
      type: 'task-progress';
      task: string;
      done: number;
      total?: number;
      unit?: string;
      /** Work started but not finished (e.g. HTTP calls in flight or waiting to be retried). */
      inFlight?: number;
      /** Time left in ms when the producer knows better than done/total over elapsed time. */
      etaMs?: number;
    }
  | { type: 'task-end'; task: string; done: number; elapsedMs: number }
  | { type: 'epoch-start'; epoch: number }
  | {
      type: 'epoch-end';
      epoch: number;
      losses: Record<string, number>;
      trainMs: number;
    }
  | {
      type: 'evaluation';
      epoch: number;
      split: 'val' | 'test';
      metrics: Record<string, number>;
      evalMs: number;
      improved?: boolean;
    }
  | { type: 'warning'; message: string; code?: string }
  | { type: 'info'; message: string; data?: Record<string, unknown> };

export type ProgressHandler = (event: ProgressEvent) => void;

/** A handler that ignores everything (the default for libraries). */
export const noProgress: ProgressHandler = () => {};
