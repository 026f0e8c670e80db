import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { RateLimiter } from './rate-limiter.js';

/** A clock that only moves when someone sleeps. */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return c;
}

describe('RateLimiter', () => {
  it('lets a burst of requestsPerMinute through, then one per 60/rpm seconds', async () => {
    const clock = fakeClock();
    const rl = new RateLimiter(60, 1e9, clock);
    for (let i = 0; i < 60; i++) await rl.acquire(1);
    expect(clock.t).toBe(0);
    await rl.acquire(1);
    expect(clock.t).toBeGreaterThanOrEqual(1000);
    expect(clock.t).toBeLessThan(1010);
    await rl.acquire(1);
    expect(clock.t).toBeGreaterThanOrEqual(2000);
  });

  it('limits tokens per minute and corrects estimates with real usage', async () => {
    const clock = fakeClock();
    const rl = new RateLimiter(1e6, 6000, clock);
    await rl.acquire(6000);
    expect(clock.t).toBe(0);
    await rl.acquire(3000); // needs half a minute of refill
    expect(clock.t).toBeGreaterThanOrEqual(30_000);
    expect(clock.t).toBeLessThan(30_010);
    rl.settle(3000, 1000); // used less than estimated: 2000 tokens back
    expect(rl.levels().tokens).toBeCloseTo(2000, 0);
  });

  it('waits for a full bucket for a request larger than the limit instead of forever', async () => {
    const clock = fakeClock();
    const rl = new RateLimiter(1e6, 100, clock);
    await rl.acquire(50);
    await rl.acquire(500);
    expect(clock.t).toBeGreaterThanOrEqual(30_000);
  });

  it('serves waiters in order', async () => {
    const clock = fakeClock();
    const rl = new RateLimiter(2, 1e9, clock);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => rl.acquire(1).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
  });
});
