import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ProgressEvent, PromaxError } from '@promax/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { embedMany } from './embedder.js';
import { createOpenAIEmbedder, decodeBase64Float32, type EmbeddingsClientLike } from './openai-embedder.js';

/** The vector the fake server returns for a text: [len, first char code, index-independent 0.5, -len/10]. */
const vectorOf = (text: string): number[] => [text.length, text.charCodeAt(0) || 0, 0.5, -text.length / 10];

const toBase64 = (v: number[]): string => {
  const buf = Buffer.alloc(v.length * 4);
  for (const [i, x] of v.entries()) buf.writeFloatLE(x, i * 4);
  return buf.toString('base64');
};

interface Seen {
  auth: string | undefined;
  body: { model: string; input: string[]; encoding_format?: string; dimensions?: number };
}

let server: Server;
let baseURL: string;
const seen: Seen[] = [];
let failNext: { status: number; headers?: Record<string, string>; raw?: string; delayMs?: number }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as Seen['body'];
      seen.push({ auth: req.headers.authorization, body });
      const fault = failNext.shift();
      if (fault?.raw !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(fault.raw);
        return;
      }
      if (fault?.delayMs !== undefined) {
        const t = setTimeout(() => res.writeHead(200).end('{}'), fault.delayMs);
        res.on('close', () => clearTimeout(t));
        return;
      }
      if (fault) {
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        res.end(JSON.stringify({ error: { message: 'injected fault' } }));
        return;
      }
      const data = body.input.map((t, index) => ({
        object: 'embedding',
        index,
        embedding: body.encoding_format === 'base64' ? toBase64(vectorOf(t)) : vectorOf(t),
      }));
      // Answer out of order: the client must place vectors by index.
      data.reverse();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          model: body.model,
          data,
          usage: { prompt_tokens: body.input.length * 3, total_tokens: body.input.length * 3 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});
afterEach(() => {
  seen.length = 0;
  failNext = [];
});

describe('createOpenAIEmbedder against a local HTTP server', () => {
  it('sends base64 requests in batches and decodes float32 vectors in input order', async () => {
    const e = createOpenAIEmbedder(
      { baseURL, model: 'text-embedding-3-small', apiKey: 'sk-test-123', maxBatchSize: 2 },
      {},
    );
    expect(e.dimensions).toBe(1536); // known model width until told otherwise
    const texts = ['apple', 'banana', 'cherry', 'date', 'elderberry'];
    const e2 = createOpenAIEmbedder(
      { baseURL, model: 'custom-embedder', apiKey: 'sk-test-123', maxBatchSize: 2 },
      {},
    );
    const { matrix, usage } = await embedMany(e2, texts);
    expect(seen.map((s) => s.body.input)).toEqual([['apple', 'banana'], ['cherry', 'date'], ['elderberry']]);
    expect(seen.every((s) => s.body.encoding_format === 'base64' && s.auth === 'Bearer sk-test-123')).toBe(
      true,
    );
    expect(e2.dimensions).toBe(4);
    expect([matrix.rows, matrix.cols]).toEqual([5, 4]);
    texts.forEach((t, i) => {
      const want = Float32Array.from(vectorOf(t));
      expect(matrix.data.subarray(i * 4, i * 4 + 4)).toEqual(want);
    });
    expect(usage.tokens).toBe(15);
  });

  it('passes dimensions and names the model with them', async () => {
    const e = createOpenAIEmbedder({ baseURL, model: 'custom', dimensions: 4, apiKey: 'k' }, {});
    await e.doEmbed({ texts: ['x'] });
    expect(seen[0]?.body.dimensions).toBe(4);
    expect(e.modelId).toBe('custom@4');
  });

  it('retries 429 (Retry-After) and 500, then gives up with a typed error', async () => {
    const e = createOpenAIEmbedder({ baseURL, model: 'm', apiKey: 'k', retryBaseMs: 5, maxRetries: 2 }, {});
    failNext = [{ status: 429, headers: { 'retry-after-ms': '20' } }, { status: 500 }];
    const t0 = Date.now();
    const out = await e.doEmbed({ texts: ['ok'] });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20);
    expect(out.embeddings[0]).toEqual(Float32Array.from(vectorOf('ok')));
    expect(seen).toHaveLength(3);

    failNext = [{ status: 503 }, { status: 503 }, { status: 503 }];
    await expect(e.doEmbed({ texts: ['ok'] })).rejects.toSatisfy(
      (err: unknown) => PromaxError.isInstance(err) && err.code === 'API_ERROR' && err.isRetryable,
    );
    failNext = [{ status: 401 }];
    seen.length = 0;
    await expect(e.doEmbed({ texts: ['ok'] })).rejects.toThrow(/HTTP 401/);
    expect(seen).toHaveLength(1); // not retried
  });

  it('reports each retry by cause and counts calls; retries unreadable bodies and timeouts', async () => {
    const events: ProgressEvent[] = [];
    const e = createOpenAIEmbedder(
      {
        baseURL,
        model: 'm',
        apiKey: 'k',
        retryBaseMs: 5,
        maxRetries: 4,
        timeoutMs: 150,
        onProgress: (x) => events.push(x),
      },
      {},
    );
    failNext = [
      { status: 429, headers: { 'retry-after-ms': '5' } },
      { status: 502 },
      { status: 200, raw: '{"data": [' },
      { status: 200, delayMs: 600 },
    ];
    const out = await e.doEmbed({ texts: ['ok'] });
    expect(out.embeddings[0]).toEqual(Float32Array.from(vectorOf('ok')));
    expect(seen).toHaveLength(5);
    expect(e.requestStats).toEqual({
      httpRequests: 5,
      retries: 4,
      retriesByCause: { 'rate-limited': 1, 'server-error': 1, timeout: 1, network: 0, unreadable: 1 },
    });
    expect(events.map((x) => x.type === 'warning' && x.code)).toEqual([
      'RETRY_RATE_LIMITED',
      'RETRY_SERVER_ERROR',
      'RETRY_UNREADABLE',
      'RETRY_TIMEOUT',
    ]);
  });

  it('never puts the API key in an error message', async () => {
    const e = createOpenAIEmbedder({ baseURL, model: 'm', apiKey: 'sk-secret-xyz', maxRetries: 0 }, {});
    failNext = [{ status: 400 }];
    const err = await e.doEmbed({ texts: ['x'] }).catch((x: unknown) => x);
    expect(String((err as Error).message)).not.toContain('sk-secret-xyz');
    expect(JSON.stringify(err)).not.toContain('sk-secret-xyz');
  });

  it('uses an injected structural client (e.g. new OpenAI(...)) and accepts number[] vectors', async () => {
    const calls: unknown[] = [];
    const client: EmbeddingsClientLike = {
      embeddings: {
        async create(body) {
          calls.push(body);
          return {
            data: body.input.map((t, index) => ({ index, embedding: vectorOf(t) })),
            usage: { prompt_tokens: 1 },
          };
        },
      },
    };
    const e = createOpenAIEmbedder({ model: 'm', client }, {});
    const out = await e.doEmbed({ texts: ['q', 'rr'] });
    expect(out.embeddings[1]).toEqual(Float32Array.from(vectorOf('rr')));
    expect(calls).toHaveLength(1);
  });

  it('validates settings and the response', async () => {
    expect(() => createOpenAIEmbedder({ model: 'm', apiKey: 'k', batch: 2 } as never, {})).toThrow(
      /unknown OpenAI embedder setting 'batch'/,
    );
    expect(() => createOpenAIEmbedder({ model: 'm' }, {})).toThrow(/OPENAI_API_KEY/);
    const bad: EmbeddingsClientLike = {
      embeddings: { create: async () => ({ data: [{ index: 0, embedding: 'AAA=' }] }) },
    };
    await expect(
      createOpenAIEmbedder({ model: 'm', client: bad }, {}).doEmbed({ texts: ['x'] }),
    ).rejects.toThrow(/whole number of float32/);
  });
});

describe('helpers', () => {
  it('decodes base64 float32 little-endian', () => {
    expect(Array.from(decodeBase64Float32(toBase64([1.5, -2, 0])))).toEqual([1.5, -2, 0]);
  });
});
