import { PromaxError } from '@promax/core';
import { Redis, type RedisOptions } from 'ioredis';

/** Host, port and database of a `redis://HOST:PORT/DB` URL (password and TLS from the URL too). */
export function parseRedisUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw badUrl(url, 'it is not a URL', cause);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw badUrl(url, `its scheme is ${u.protocol}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!(Number.isInteger(db) && db >= 0))
    throw badUrl(url, `database '${u.pathname.slice(1)}' is not an integer`);
  const port = u.port ? Number(u.port) : 6379;
  return {
    host: u.hostname || '127.0.0.1',
    port,
    db,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

function badUrl(url: string, why: string, cause?: unknown): PromaxError {
  return new PromaxError({
    code: 'INVALID_ARGUMENT',
    field: '--queue',
    message: `bad queue URL '${redact(url)}': ${why}`,
    fix: 'pass redis://HOST:PORT/DB (e.g. redis://127.0.0.1:6379/0)',
    cause,
  });
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Connects once, without retries, and PINGs: an unreachable or wrong server is a PromaxError
 * within `timeoutMs` instead of the endless reconnect loop a queue client would start.
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const options = parseRedisUrl(url);
  const client = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // errors are reported through the rejected promise below; without a listener ioredis logs them
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (cause) {
    throw new PromaxError({
      code: 'API_ERROR',
      field: '--queue',
      message: `cannot reach the Redis queue at ${redact(url)}: ${(cause as Error)?.message ?? String(cause)}`,
      fix: 'start redis-server there (or pass the right redis://HOST:PORT/DB)',
      isRetryable: true,
      cause,
    });
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
