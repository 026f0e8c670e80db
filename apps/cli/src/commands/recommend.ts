import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { loadDataset, loadEmbeddings } from '@promax/data';
import { recommendTopK } from '@promax/eval';
import { checkRunDirectory } from '@promax/pipeline';
import { readRunConfig, resolveDatasetSource } from '@promax/report';
import { positiveIntFlag } from '../profile-pipeline/cli-args.js';
import { loadItemTexts, rawIds } from '../profile-pipeline/dataset-texts.js';
import { emitDatasetWarnings } from '../render/loader-warnings.js';
import { markdownTable } from '../render/table.js';
import type { Command } from './command.js';

const usage = `promax recommend --run RUN_DIR --user USER_ID [--k 20] [--json]
promax recommend --run RUN_DIR --list-users

Top-K items for one user from a finished run's final embeddings (user_emb.npy, item_emb.npy),
ranked by dot product with the user's train items left out. USER_ID is the dataset's original id
(its dense row number when the dataset has no id map). Titles are shown when the dataset has an
item text table.

  --run DIR        a run directory written by 'promax train'
  --user ID        the user, by original id
  --k N            how many items (default 20)
  --json           print {"user": ID, "items": [{"item": ID, "score": S}, ...]}
  --list-users     print the dataset's user ids, one per line`;

export const recommendCommand: Command = {
  summary: "top-K items for a user from a trained run's embeddings",
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        run: { type: 'string' },
        user: { type: 'string' },
        k: { type: 'string', default: '20' },
        json: { type: 'boolean', default: false },
        'list-users': { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (!values.run) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--run',
        message: '--run is required',
        fix: usage.split('\n')[0],
      });
    }
    const runDir = resolve(io.cwd, values.run);
    checkRunDirectory(runDir);
    const config = readRunConfig(runDir);
    if (typeof config.dataset !== 'string' || !config.dataset) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        file: join(runDir, 'config.json'),
        message: 'the run has no config.json naming its dataset',
        fix: 'pass a run directory written by promax train',
      });
    }
    const ds = loadDataset(resolveDatasetSource(config.dataset, { cwd: io.cwd, runDir }), {
      embeddings: false,
      aug: false,
    });
    emitDatasetWarnings(ds, (e) => e.type === 'warning' && io.err(`warning: ${e.message}\n`));
    const userIds = rawIds(ds, 'user');
    if (values['list-users']) {
      io.out(`${userIds.join('\n')}\n`);
      return 0;
    }
    const asked = positiveIntFlag(values.k, '--k') as number;
    const k = Math.min(asked, ds.numItems);
    if (asked > k)
      io.err(`note: --k ${asked} exceeds the ${ds.numItems} items of ${ds.name}; showing at most ${k}\n`);
    const user = values.user;
    if (user === undefined || user === '') {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--user',
        message: '--user is required',
        fix: usage.split('\n')[0],
      });
    }
    const dense = userIds.indexOf(user);
    if (dense < 0) {
      const examples = userIds
        .slice(0, 3)
        .map((id) => `'${id}'`)
        .join(', ');
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--user',
        message: `unknown user '${user}': dataset ${ds.name} has ${ds.numUsers} users${ds.userIds ? ` with ids like ${examples}` : ` and no id map, so ids are dense row numbers 0…${ds.numUsers - 1}`}`,
        fix: `list the user ids with 'promax recommend --run ${values.run} --list-users'`,
        details: { user, dataset: ds.name },
      });
    }
    const files = ['user_emb.npy', 'item_emb.npy'].map((f) => join(runDir, f));
    for (const f of files) {
      if (!existsSync(f)) {
        throw new PromaxError({
          code: 'FILE_NOT_FOUND',
          file: f,
          message: 'the run has no final embeddings',
          fix: 'train the run to the end (promax train writes user_emb.npy and item_emb.npy)',
        });
      }
    }
    const [userEmb, itemEmb] = files.map((f) => loadEmbeddings(f));
    if (
      !userEmb ||
      !itemEmb ||
      userEmb.rows !== ds.numUsers ||
      itemEmb.rows !== ds.numItems ||
      userEmb.cols !== itemEmb.cols
    ) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        file: runDir,
        message: `the embeddings are ${userEmb?.rows}×${userEmb?.cols} (users) and ${itemEmb?.rows}×${itemEmb?.cols} (items) but ${ds.name} has ${ds.numUsers} users and ${ds.numItems} items`,
        fix: "check that config.json's dataset is the one the run was trained on",
      });
    }
    const top = (await recommendTopK({ userEmb, itemEmb, users: [dense], k, exclude: ds.train })).get(
      dense,
    ) ?? { items: [], scores: [] };
    const itemIds = rawIds(ds, 'item');
    const texts = loadItemTexts(ds);
    const items = top.items.map((i, r) => {
      const id = itemIds[i] as string;
      const title = texts?.byId.get(id)?.title;
      return { item: id, score: top.scores[r] as number, ...(title === undefined ? {} : { title }) };
    });
    if (values.json) {
      io.out(`${JSON.stringify({ user, items })}\n`);
      return 0;
    }
    const trained = ds.train.indptr[dense + 1] - ds.train.indptr[dense];
    io.out(
      `top ${items.length} for user ${user} (${ds.name}; ${trained} train item${trained === 1 ? '' : 's'} left out)\n\n`,
    );
    const header = ['rank', 'item', 'score', ...(texts ? ['title'] : [])];
    const rows = items.map((it, r) => [
      String(r + 1),
      it.item,
      it.score.toFixed(4),
      ...(texts ? [(it.title ?? '').replace(/\|/g, '\\|')] : []),
    ]);
    io.out(`${markdownTable(header, rows, ['r', 'l', 'r', 'l'].slice(0, header.length) as ('l' | 'r')[])}\n`);
    return 0;
  },
};
