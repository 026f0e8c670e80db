import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

/**
 * Requests-per-minute and tokens-per-minute limits as two token buckets that refill
 * continuously and start full. `acquire` waits (in FIFO order) until both buckets hold enough;
 * `settle` corrects the token bucket once the real usage of a request is known.
 */
export class RateLimiter {
  private requests: number;
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly requestsPerMinute: number,
    private readonly tokensPerMinute: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.requests = requestsPerMinute;
    this.tokens = tokensPerMinute;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    const dt = Math.max(0, now - this.last) / 60_000;
    this.last = now;
    this.requests = Math.min(this.requestsPerMinute, this.requests + dt * this.requestsPerMinute);
    this.tokens = Math.min(this.tokensPerMinute, this.tokens + dt * this.tokensPerMinute);
  }

  /** Waits until one request of about `tokens` tokens may start, then takes it from the buckets. */
  acquire(tokens: number, signal?: AbortSignal): Promise<void> {
    // A single request larger than the whole bucket waits for a full bucket instead of forever.
    const need = Math.min(tokens, this.tokensPerMinute);
    const turn = this.queue.then(async () => {
      for (;;) {
        this.refill();
        if (this.requests >= 1 && this.tokens >= need) {
          this.requests -= 1;
          this.tokens -= need;
          return;
        }
        const waitReq = this.requests >= 1 ? 0 : ((1 - this.requests) / this.requestsPerMinute) * 60_000;
        const waitTok = this.tokens >= need ? 0 : ((need - this.tokens) / this.tokensPerMinute) * 60_000;
        await this.clock.sleep(Math.ceil(Math.max(waitReq, waitTok, 1)), signal);
      }
    });
    // A rejected turn (abort) must not block the ones queued after it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Adjusts the token bucket by the difference between the real and the estimated usage. */
  settle(estimated: number, actual: number): void {
    this.refill();
    this.tokens = Math.min(
      this.tokensPerMinute,
      this.tokens + Math.min(estimated, this.tokensPerMinute) - actual,
    );
  }

  /** Current bucket levels (for tests and progress). */
  levels(): { requests: number; tokens: number } {
    this.refill();
    return { requests: this.requests, tokens: this.tokens };
  }
}
