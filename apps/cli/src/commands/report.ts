import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { buildReport } from '@promax/report';
import type { Command } from './command.js';

const usage = `promax report --run RUN_DIR [--run RUN_DIR ...] [--compare RUN_DIR ...] [--out DIR] [--title TEXT]
               [--no-sparsity] [--json]

Writes DIR/report.md and DIR/plots/*.svg over finished training runs (folders written by
'promax train'; a folder above several runs, such as a 'promax reproduce' output, counts as all
of them):
  - test recall/NDCG @5/10/20, mean ± std over seeds of the same model, dataset and ProMax terms;
  - gains of +ProMax over the base model, and whether they exceed the seed std;
  - the authors' LightGCN+ProMax numbers where comparable (same dataset, SDR and S2DR both ran);
  - plots: validation recall@20 by epoch, test recall@20 by user-sparsity quartile (from each
    run's user_emb.npy / item_emb.npy), and profile retrieval when profile_retrieval.json exists.

  --run DIR        a run directory (repeatable)
  --compare DIR    runs to compare against, e.g. base runs (repeatable)
  --out DIR        where the report goes (default: the first --run)
  --title TEXT     the report's title
  --no-sparsity    skip the per-sparsity-group evaluation
  --json           print {"report", "plots", "notes"} as JSON`;

export const reportCommand: Command = {
  summary: 'write a Markdown report with plots over training runs',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        run: { type: 'string', multiple: true, default: [] },
        compare: { type: 'string', multiple: true, default: [] },
        out: { type: 'string' },
        title: { type: 'string' },
        'no-sparsity': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const first = values.run[0];
    if (first === undefined) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--run',
        message: '--run is required',
        fix: usage.split('\n')[0],
      });
    }
    const result = await buildReport({
      runs: values.run,
      compare: values.compare,
      outDir: resolve(io.cwd, values.out ?? first),
      title: values.title,
      cwd: io.cwd,
      sparsity: !values['no-sparsity'],
    });
    if (values.json) {
      io.out(`${JSON.stringify({ report: result.reportPath, plots: result.plots, notes: result.notes })}\n`);
    } else {
      for (const n of result.notes) io.err(`note: ${n}\n`);
      io.out(
        `report: ${result.reportPath} (${result.runs.length} run${result.runs.length === 1 ? '' : 's'}, ${result.plots.length} plot${result.plots.length === 1 ? '' : 's'})\n`,
      );
    }
    return 0;
  },
};
