import { afterAll, describe, expect, it } from 'vitest';
import {
  type Fault,
  rateLimited,
  useFakeOpenAIServer,
} from '../../../../packages/profiles/src/fake-openai-server.fixture.js';
import { EXIT } from '../exit-codes.js';
import { main } from '../main.js';
import {
  removeTempDirs,
  tempDir,
  writeSyntheticDataset,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

// `promax profiles` as scripts and long runs see it: exit codes, retry/timeout/repair flags,
// counts that match the fault server's request log, summarised retries, Ctrl-C.

const server = useFakeOpenAIServer();
afterAll(removeTempDirs);

const run = async (argv: string[]) => {
  const io = captureIo();
  io.env = { ...io.env, OPENAI_API_KEY: 'sk-test' };
  const code = await main(['profiles', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

/** Item-profile runs of the synthetic dataset (30 items, b00..b29) with fast limits. */
const itemArgs = (dir: string, out: string, extra: string[] = []): string[] => [
  '--dataset',
  dir,
  '--llm-base-url',
  server.baseURL,
  '--llm-model',
  'gpt-4o-mini',
  '--kind',
  'item',
  '--rpm',
  '1000000',
  '--tpm',
  '1000000000',
  '--set',
  'llm.backoff.initialMs=5',
  '--set',
  'llm.backoff.maxMs=20',
  '--out',
  out,
  ...extra,
];

/** The item id a request is about (its prompt carries the title "The … book number N" of item bNN). */
const itemOf = (user: string): string => `b${(/book number (\d+)/.exec(user)?.[1] ?? '?').padStart(2, '0')}`;
const faultsById =
  (plan: Record<string, (attempt: number) => Fault | undefined>) =>
  ({ user, attempt }: { user: string; attempt: number }): Fault | undefined =>
    plan[itemOf(user)]?.(attempt);

/** Numbers of the summary line "item profiles: ... — 30 items: a from the store, b answered now, c failed; d HTTP calls (e first, f retries...; g repairs)". */
function summaryOf(out: string) {
  const m =
    /(\d+) items: (\d+) from the store, (\d+) answered now, (\d+) failed; (\d+) HTTP calls? \((\d+) first, (\d+) retr(?:y|ies)(?:: ([^;]*))?; (\d+) repairs?\)/.exec(
      out,
    );
  if (!m) throw new Error(`no summary in: ${out}`);
  const causes = new Map<string, number>();
  for (const part of (m[8] ?? '').split(', ').filter(Boolean)) {
    const [n, ...words] = part.split(' ');
    causes.set(words.join(' '), Number(n));
  }
  const [entities, stored, answered, failed, calls, first, retries, , repairs] = [
    m[1],
    m[2],
    m[3],
    m[4],
    m[5],
    m[6],
    m[7],
    m[8],
    m[9],
  ].map(Number);
  return { entities, stored, answered, failed, calls, first, retries, repairs, causes };
}

describe('promax profiles for scripts and long runs', () => {
  it('exits 3 when some profiles failed, counts match the request log, no MaxListeners warning at --concurrency 32; a rerun retries only the failures', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    server.options = {
      latencyMs: 20,
      fault: faultsById({
        b00: () => ({ status: 500 }), // retries used up
        b01: () => ({ content: 'not JSON at all' }), // repairs used up
        b02: (a) => (a === 1 ? rateLimited(30) : undefined),
        b03: (a) => (a <= 2 ? { status: 503 } : undefined),
        b04: (a) => (a === 1 ? { rawBody: '{"choices": [' } : undefined),
        b05: (a) => (a === 1 ? { content: '{"summarization": "cut off' } : undefined),
      }),
    };
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const first = await run(itemArgs(ds.dir, out, ['--concurrency', '32', '--retries', '3', '--quiet']));
    await new Promise((r) => setTimeout(r, 20));
    process.off('warning', onWarning);
    expect(first.code, first.err).toBe(EXIT.PARTIAL);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(server.maxInFlight).toBeGreaterThan(4); // calls overlap (how many depends on the load)
    expect(first.err).toMatch(
      /warning: 2 item profile\(s\) failed .*the same command retries only them \(exit code 3\)/,
    );

    const s = summaryOf(first.out);
    const st = server.statusCounts();
    expect(s).toMatchObject({ entities: 30, stored: 0, answered: 28, failed: 2, first: 30 });
    expect(s.calls).toBe(server.log.length);
    expect(s.causes.get('rate-limited (429)')).toBe(st.get(429));
    // b00's last 500 is given up, not retried
    expect(s.causes.get('server error (5xx)')).toBe((st.get(500) ?? 0) + (st.get(503) ?? 0) - 1);
    expect(s.causes.get('unreadable body')).toBe(st.get('malformed-body'));
    expect(s.retries).toBe(3 + 1 + 2 + 1);
    expect(s.repairs).toBe(server.log.filter((r) => r.body.messages.length > 2).length);
    expect(s.repairs).toBe(2);

    server.reset();
    server.options = {};
    const second = await run(itemArgs(ds.dir, out, ['--quiet']));
    expect(second.code, second.err).toBe(EXIT.OK);
    expect(server.log.map((r) => itemOf(r.body.messages[1]?.content ?? '')).sort()).toEqual(['b00', 'b01']);
    expect(summaryOf(second.out)).toMatchObject({ stored: 28, answered: 2, failed: 0, calls: 2 });
  });

  it('--timeout, --retries and --repairs change what they name', async () => {
    const ds = writeSyntheticDataset();
    const plan = faultsById({
      b00: () => ({ status: 500 }),
      b01: () => ({ content: 'no JSON' }),
      b02: (a) => (a === 1 ? { delayMs: 1_500 } : undefined),
    });
    const callsFor = (id: string): number =>
      server.log.filter((r) => itemOf(r.body.messages[1]?.content ?? '') === id).length;
    const limit3 = ['--limit', '3', '--quiet'];
    const limit2 = ['--limit', '2', '--quiet']; // without the stall

    // defaults: 6 retries, 1 repair, a 120 s timeout (the stalled call is simply waited for)
    server.options = { fault: plan };
    const d = await run(itemArgs(ds.dir, tempDir(), limit3));
    expect(d.code).toBe(EXIT.PARTIAL);
    expect([callsFor('b00'), callsFor('b01'), callsFor('b02')]).toEqual([7, 2, 1]);

    server.reset();
    const t0 = performance.now();
    const f = await run(
      itemArgs(ds.dir, tempDir(), [...limit3, '--retries', '2', '--repairs', '3', '--timeout', '0.3']),
    );
    expect(f.code).toBe(EXIT.PARTIAL);
    expect([callsFor('b00'), callsFor('b01'), callsFor('b02')]).toEqual([3, 4, 2]);
    expect(server.statusCounts().get('dropped')).toBe(1);
    expect(performance.now() - t0).toBeLessThan(1_400);
    expect(summaryOf(f.out).causes.get('timed out')).toBe(1);

    server.reset();
    const z = await run(itemArgs(ds.dir, tempDir(), [...limit2, '--retries', '0', '--repairs', '0']));
    expect(z.code).toBe(EXIT.PARTIAL);
    expect([callsFor('b00'), callsFor('b01')]).toEqual([1, 1]);

    // the config keys do the same (a flag wins over --set)
    server.reset();
    const c = await run(
      itemArgs(ds.dir, tempDir(), [...limit2, '--set', 'llm.maxRetries=1', '--set', 'llm.repairAttempts=2']),
    );
    expect(c.code).toBe(EXIT.PARTIAL);
    expect([callsFor('b00'), callsFor('b01')]).toEqual([2, 3]);
    server.reset();
    await run(itemArgs(ds.dir, tempDir(), [...limit2, '--set', 'llm.maxRetries=1', '--retries', '4']));
    expect(callsFor('b00')).toBe(5);
  });

  it('summarises retries in counted lines; --verbose prints one line each', async () => {
    const ds = writeSyntheticDataset();
    server.options = { fault: ({ attempt }) => (attempt === 1 ? rateLimited(5) : undefined) };
    const quiet = await run(itemArgs(ds.dir, tempDir(), ['--limit', '12', '--concurrency', '4']));
    expect(quiet.code, quiet.err).toBe(EXIT.OK);
    const counted = quiet.err.split('\n').filter((l) => /retr(y|ies)/.test(l));
    // the first retry shows at once, the rest are counted into one line at the end of the task
    expect(counted.length).toBeLessThanOrEqual(2);
    const total = counted
      .map((l) => Number(/warning: (\d+) retr/.exec(l)?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    expect(total).toBe(12);
    expect(quiet.err).toMatch(/\(12 in all; --verbose shows each\)/);
    expect(quiet.err).toMatch(/item profiles: 12\/12 items/);

    server.reset();
    const verbose = await run(itemArgs(ds.dir, tempDir(), ['--limit', '12', '--verbose']));
    expect(verbose.err.split('\n').filter((l) => /HTTP 429.*retry 1\/6/.test(l))).toHaveLength(12);
  });

  it('exits 130 on Ctrl-C with what finished stored; the rerun resumes', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    let sent = false;
    server.options = {
      latencyMs: 25,
      fault: () => {
        if (server.log.length === 10 && !sent) {
          sent = true;
          process.emit('SIGINT');
        }
        return undefined;
      },
    };
    const r = await run(itemArgs(ds.dir, out, ['--concurrency', '4', '--quiet']));
    expect(r.code, r.err).toBe(EXIT.INTERRUPTED);
    expect(r.err).toMatch(/SIGINT: stopping/);
    expect(r.err).toMatch(
      /interrupted: the job was aborted after \d+ answers .* in flight at the abort will be asked again/,
    );
    expect(process.listenerCount('SIGINT')).toBe(0);
    const firstCalls = server.log.length;
    expect(firstCalls).toBeLessThan(30);

    server.reset();
    server.options = {};
    const again = await run(itemArgs(ds.dir, out, ['--quiet']));
    expect(again.code, again.err).toBe(EXIT.OK);
    const s = summaryOf(again.out);
    expect(s.stored + s.answered).toBe(30);
    // only the answers in flight at the interrupt (at most --concurrency) are paid twice
    expect(firstCalls + s.calls - 30).toBeLessThanOrEqual(4);
  });

  it('documents exit codes, retries, repairs and resume in --help; rejects bad flag values', async () => {
    const io = captureIo();
    expect(await main(['profiles', '--help'], io)).toBe(0);
    const help = io.stdout();
    expect(help).toMatch(/Exit codes:\n {2}0 {4}everything done\n {2}3 {4}some profiles failed/);
    expect(help).toMatch(/\n {2}2 {4}bad input/);
    expect(help).toMatch(/\n {2}130 {2}interrupted by Ctrl-C or SIGTERM/);
    expect(help).toMatch(/\n {2}1 {4}an internal error/);
    expect(help).toMatch(/--timeout SECONDS .*\(default 120\)/);
    expect(help).toMatch(/--retries N .*\(default 6/);
    expect(help).toMatch(/--repairs N .*\(default 1/);
    expect(help).toMatch(/Retry-After/);
    expect(help).toMatch(/What a crash\s+costs: the calls in flight/);
    expect(help).not.toMatch(/pays nothing twice/);

    const ds = writeSyntheticDataset();
    for (const [flag, value] of [
      ['--retries', '-1'],
      ['--repairs', '1.5'],
      ['--timeout', '0'],
    ] as const) {
      const r = await run(itemArgs(ds.dir, tempDir(), [`${flag}=${value}`]));
      expect(r.code).toBe(EXIT.BAD_INPUT);
      expect(r.err).toMatch(new RegExp(`error \\[INVALID_ARGUMENT\\]: ${flag} must be`));
    }
    expect(server.log).toHaveLength(0);
  });
});
