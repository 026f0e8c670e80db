/** What one started entity is doing now. */
export type EntityState =
  /** Waiting for the rate limiter. */
  | { phase: 'queued' }
  /** An HTTP call in flight since `startedAt`. */
  | { phase: 'calling'; startedAt: number }
  /** Waiting until `until` before a retry (backoff or Retry-After). */
  | { phase: 'backoff'; until: number };

export interface EtaInput {
  now: number;
  /** Entities not started yet. */
  notStarted: number;
  /** Entities finished (answered or failed) in this run, and the ms since the run began. */
  finished: number;
  elapsedMs: number;
  /** Entities started and not finished. */
  started: readonly EntityState[];
  /** Typical duration of a completed HTTP call in ms (undefined before the first one). */
  typicalCallMs: number | undefined;
  /** Client-side timeout of one call in ms. */
  timeoutMs: number;
}

/**
 * Time left of a job of LLM calls, in ms, or undefined before anything finished. The throughput
 * so far (finished entities per ms) gives the time for what is queued and in flight; but a few
 * slow calls at the end would make that read seconds while one of them can still take minutes,
 * so the estimate is never below the longest wait among the calls in flight: a call running
 * longer than twice the typical call is taken as stalled until its timeout, a call waiting to be
 * retried needs its wait plus a typical call.
 */
export function estimateRemainingMs(x: EtaInput): number | undefined {
  if (x.finished === 0 || x.typicalCallMs === undefined) return undefined;
  const typical = x.typicalCallMs;
  const throughput = ((x.notStarted + x.started.length) * x.elapsedMs) / x.finished;
  let longest = 0;
  for (const s of x.started) {
    let left = typical;
    if (s.phase === 'calling') {
      const age = x.now - s.startedAt;
      left = age <= 2 * typical ? typical - age : x.timeoutMs - age;
    } else if (s.phase === 'backoff') left = s.until - x.now + typical;
    longest = Math.max(longest, left);
  }
  return Math.max(0, throughput, longest);
}

/** Median of the last `capacity` durations pushed (the typical call). */
export class RecentDurations {
  private readonly values: number[] = [];
  constructor(private readonly capacity = 64) {}
  push(ms: number): void {
    this.values.push(ms);
    if (this.values.length > this.capacity) this.values.shift();
  }
  median(): number | undefined {
    if (this.values.length === 0) return undefined;
    const s = [...this.values].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  }
}
