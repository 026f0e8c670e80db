// Test fixture (excluded from the build): a real HTTP server on 127.0.0.1 speaking the
// OpenAI chat-completions protocol, with injectable faults (429 with Retry-After, 5xx, stalls,
// malformed bodies, malformed answers) and a request log to check a client's counts against.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  max_tokens?: number;
  temperature?: number;
  response_format?: unknown;
}

export interface LoggedRequest {
  /** sha256 of [model, first system, first user] — the same prompt hash the library computes. */
  hash: string;
  /** 1-based count of requests seen for this hash so far (including this one). */
  attempt: number;
  body: ChatRequestBody;
  authorization: string | undefined;
  /** What the server answered: an HTTP status, or 'dropped' when the client went away first. */
  status: number | 'dropped';
  /** True when the body sent was not valid JSON (a `rawBody` fault). */
  malformedBody?: boolean;
  /** The assistant content sent with a 200. */
  content?: string;
}

/** What to do with one request; undefined = the default good answer. */
export type Fault =
  /** An error status (e.g. 429 with `retry-after` / `retry-after-ms`, 500, 400). */
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Wait before answering; a delay beyond the client's timeout is a stall (logged as 'dropped'). */
  | { delayMs: number; then?: Fault | { content: string } }
  /** A 200 whose body is this text, sent as application/json (e.g. a proxy's half page). */
  | { rawBody: string }
  /** A well-formed completion whose assistant content is this (e.g. malformed JSON). */
  | { content: string };

/** A 429 with Retry-After in ms (the header the OpenAI API sends besides `retry-after`). */
export const rateLimited = (retryAfterMs: number): Fault => ({
  status: 429,
  headers: { 'retry-after-ms': String(retryAfterMs) },
});

export interface FakeServerOptions {
  /** Decides the answer per request (after delays). */
  fault?: (req: {
    hash: string;
    attempt: number;
    body: ChatRequestBody;
    user: string;
    system: string;
  }) => Fault | undefined;
  /** Delay of every good answer in ms (to keep several requests in flight). */
  latencyMs?: number;
}

export function hashOf(body: ChatRequestBody): { hash: string; system: string; user: string } {
  const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
  const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
  return {
    hash: createHash('sha256')
      .update(JSON.stringify([body.model, system, user]))
      .digest('hex'),
    system,
    user,
  };
}

/** The default good answer: a profile JSON, or for re-ranking prompts the first n candidate ids. */
export function defaultContent(body: ChatRequestBody, hash: string): string {
  const system = body.messages[0]?.content ?? '';
  const user = body.messages[1]?.content ?? '';
  if (system.includes('final ranking step')) {
    const n = Number(/Choose the (\d+) candidates/.exec(system)?.[1] ?? 1);
    const ids = user
      .split('\n')
      .filter((l) => l.startsWith('{"id"'))
      .map((l) => (JSON.parse(l) as { id: string }).id);
    return JSON.stringify({ ids: ids.slice(0, n) });
  }
  return JSON.stringify({
    summarization: `profile ${hash.slice(0, 8)}`,
    reasoning: 'because the test server says so',
  });
}

export class FakeOpenAIServer {
  readonly log: LoggedRequest[] = [];
  /** Requests being handled right now, and the most at once since the last reset. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly attempts = new Map<string, number>();
  private server: Server | undefined;
  baseURL = '';

  constructor(public options: FakeServerOptions = {}) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.baseURL = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Requests per prompt hash. */
  countByHash(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.log) m.set(r.hash, (m.get(r.hash) ?? 0) + 1);
    return m;
  }

  /** Requests per answer: HTTP status, 'dropped', and 'malformed-body' for `rawBody` faults. */
  statusCounts(): Map<number | 'dropped' | 'malformed-body', number> {
    const m = new Map<number | 'dropped' | 'malformed-body', number>();
    for (const r of this.log) {
      const k = r.malformedBody ? 'malformed-body' : r.status;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  }

  reset(): void {
    this.log.length = 0;
    this.attempts.clear();
    this.maxInFlight = 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const body = JSON.parse(raw) as ChatRequestBody;
      const { hash, system, user } = hashOf(body);
      const attempt = (this.attempts.get(hash) ?? 0) + 1;
      this.attempts.set(hash, attempt);
      const entry: LoggedRequest = {
        hash,
        attempt,
        body,
        authorization: req.headers.authorization,
        status: 'dropped',
      };
      this.log.push(entry);
      let gone = false;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => {
        this.inFlight--;
        if (!res.writableFinished) gone = true;
      });
      const answer = (f: Fault | undefined): void => {
        if (gone) return;
        if (f && 'delayMs' in f) {
          setTimeout(() => answer(f.then), f.delayMs);
          return;
        }
        if (f && 'rawBody' in f) {
          entry.status = 200;
          entry.malformedBody = true;
          res.writeHead(200, { 'content-type': 'application/json' }).end(f.rawBody);
          return;
        }
        if (f && 'status' in f) {
          entry.status = f.status;
          res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers });
          res.end(JSON.stringify(f.body ?? { error: { message: `injected ${f.status}`, type: 'test' } }));
          return;
        }
        const content = f && 'content' in f ? f.content : defaultContent(body, hash);
        entry.status = 200;
        entry.content = content;
        const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
        const completionTokens = Math.ceil(content.length / 4);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `chatcmpl-${this.log.length}`,
            object: 'chat.completion',
            created: 0,
            model: body.model,
            choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
            usage: {
              prompt_tokens: promptTokens,
              completion_tokens: completionTokens,
              total_tokens: promptTokens + completionTokens,
            },
          }),
        );
      };
      const fault = this.options.fault?.({ hash, attempt, body, user, system });
      const latency = this.options.latencyMs ?? 0;
      if (latency > 0) setTimeout(() => answer(fault), latency);
      else answer(fault);
    });
  }
}

/**
 * One fake server for a test file: started before its tests, stopped after them, and (unless
 * `resetAfterEach: false`) its request log and fault options cleared after every test.
 */
export function useFakeOpenAIServer(opts: { resetAfterEach?: boolean } = {}): FakeOpenAIServer {
  const server = new FakeOpenAIServer();
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });
  if (opts.resetAfterEach !== false) {
    afterEach(() => {
      server.reset();
      server.options = {};
    });
  }
  return server;
}
