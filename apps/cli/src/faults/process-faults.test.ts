// Issue 16, with real child processes of the built CLI: SIGKILL at random points of a run,
// SIGINT/SIGTERM, and a reader that closes the pipe. After every kill, the run directory holds
// either nothing or the previous complete run (never a partial one read as complete), and a rerun
// completes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Rng } from '@promax/core';
import { checkRunDirectory } from '@promax/pipeline';
import { describe, expect, it } from 'vitest';
import {
  cliBin,
  freshDir,
  noCliReason,
  startCli,
  trainArgs,
  waitForStderr,
  writeTinyDataset,
} from './fault-fixtures.test-util.js';

const data = writeTinyDataset();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a reader can see in `out`: nothing, or one complete run (its id). */
function observe(out: string): { state: 'absent' } | { state: 'run'; runId: string | undefined } {
  if (!existsSync(out)) return { state: 'absent' };
  const { runId } = checkRunDirectory(out); // throws on a partial or mixed folder
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  if (results.run_id !== runId) throw new Error(`results.json of ${results.run_id} in run ${runId}`);
  return { state: 'run', runId };
}

describe.skipIf(noCliReason)('issue 16: faults in a running `promax train` (child processes)', () => {
  if (noCliReason) console.info(`skipped: ${noCliReason}`);

  it('SIGKILL at random points: the folder is absent or the previous complete run; a rerun completes', async () => {
    const rng = new Rng(16);
    const tally = { tried: 0, held: 0, killedBeforeCommit: 0, killedAfterCommit: 0 };
    // Fresh runs (nothing there before), then overwrites of a finished run.
    const fresh = join(freshDir('kill'), 'run');
    const overwrite = join(freshDir('kill-ow'), 'run');
    const long = ['--max-epochs', '150', '--set', 'trainer.patience=1000', '--quiet'];
    const t0 = performance.now();
    const done = startCli(trainArgs(data, overwrite, long));
    expect((await done.exit).code, done.stderr()).toBe(0);
    // Kill points are drawn over this run's own duration (it grows with the machine's load).
    const duration = performance.now() - t0;
    const original = observe(overwrite);
    expect(original.state).toBe('run');

    for (let k = 0; k < 6; k++) {
      const target = k < 3 ? fresh : overwrite;
      const extra = k < 3 ? [] : ['--overwrite'];
      const before = observe(target);
      const child = startCli(trainArgs(data, target, [...long, ...extra]));
      // Random points from process start to a little past the end of the run.
      await sleep(Math.floor(duration * (0.1 + 1.0 * rng.nextFloat())));
      child.proc.kill('SIGKILL');
      const exit = await child.exit;
      tally.tried++;
      const seen = observe(target);
      if (k >= 3) expect(seen.state).toBe('run'); // an overwrite never loses the finished run
      if (JSON.stringify(seen) === JSON.stringify(before)) tally.killedBeforeCommit++;
      else tally.killedAfterCommit++;
      // A rerun after the kill completes, and leaves one complete run with nothing beside it.
      const rerun = startCli(trainArgs(data, target, ['--max-epochs', '2', '--quiet', '--overwrite']));
      const r = await rerun.exit;
      expect(r.code, rerun.stderr()).toBe(0);
      const after = observe(target);
      expect(after.state).toBe('run');
      expect(readdirSync(dirname(target)).filter((f) => f.startsWith('.run.'))).toEqual([]);
      // Killed, or it finished before the signal landed: either way the checks above held.
      expect(exit.signal === 'SIGKILL' || exit.code === 0).toBe(true);
      tally.held++;
    }
    console.info(
      `SIGKILL faults: tried ${tally.tried}, held ${tally.held} (${tally.killedBeforeCommit} before commit, ${tally.killedAfterCommit} after)`,
    );
    expect(tally.held).toBe(tally.tried);
  }, 120_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops cleanly, writes what finished and exits 130`, async () => {
      const out = join(freshDir(signal.toLowerCase()), 'run');
      const child = startCli(
        trainArgs(data, out, ['--max-epochs', '100000', '--set', 'trainer.evalEvery=1']),
      );
      expect(await waitForStderr(child, /epoch 3:/)).toBe(true);
      child.proc.kill(signal);
      const exit = await child.exit;
      expect(exit.code, child.stderr()).toBe(130);
      expect(child.stderr()).toMatch(new RegExp(`interrupted \\(${signal}\\)`));
      const text = child.stdout() + child.stderr();
      expect(text).not.toMatch(/best epoch null|undefined s|unexpected error/);
      expect(child.stdout()).toMatch(/best epoch \d+ of \d+, stopped: interrupted/);
      const seen = observe(out);
      expect(seen.state).toBe('run');
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).stopped).toBe('aborted');
    }, 60_000);
  }

  it('a reader that closes the pipe (recommend --list-users | head -1) ends quietly with exit 0', async () => {
    const out = join(freshDir('epipe'), 'run');
    const train = startCli(trainArgs(data, out, ['--max-epochs', '1', '--quiet']));
    expect((await train.exit).code).toBe(0);
    // The reader is gone before the CLI writes its first line.
    const child = startCli(['recommend', '--run', out, '--list-users']);
    child.proc.stdout?.destroy();
    const exit = await child.exit;
    expect(exit.code, child.stderr()).toBe(0);
    expect(child.stderr()).not.toMatch(/EPIPE|unexpected error|\n\s+at /);
  }, 30_000);
});

if (cliBin === undefined) console.info(`process fault tests skipped: ${noCliReason}`);
