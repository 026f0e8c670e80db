/**
 * One 'abort' listener on a long-lived signal, fanned out to short-lived child signals. Each
 * HTTP call and each wait of a job gets its own child, released when it is over, so the job's
 * signal holds one listener whatever the concurrency (Node warns from 11 listeners on one
 * signal: MaxListenersExceededWarning), and listeners that a client never removes from the
 * signal it was given die with that call's child.
 */
export class AbortFanout {
  private readonly live = new Set<AbortController>();
  private readonly onAbort = (): void => {
    for (const c of this.live) c.abort(this.parent.reason);
    this.live.clear();
  };

  constructor(private readonly parent: AbortSignal) {
    parent.addEventListener('abort', this.onAbort, { once: true });
  }

  /** A signal that aborts with the parent; `release` it when the operation is over. */
  child(): { signal: AbortSignal; release: () => void } {
    const c = new AbortController();
    if (this.parent.aborted) c.abort(this.parent.reason);
    else this.live.add(c);
    return { signal: c.signal, release: () => void this.live.delete(c) };
  }

  /** Runs `fn` with a child signal and releases it afterwards. */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { signal, release } = this.child();
    try {
      return await fn(signal);
    } finally {
      release();
    }
  }

  /** Children not yet released (tests). */
  get size(): number {
    return this.live.size;
  }

  /** Removes the one listener from the parent (end of the job). */
  dispose(): void {
    this.parent.removeEventListener('abort', this.onAbort);
  }
}
