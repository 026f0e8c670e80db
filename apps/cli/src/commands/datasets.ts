import { parseArgs } from 'node:util';
import { bundledDataDir, listDatasets, resolveDataDir } from '@promax/data';
import { markdownTable } from '../render/table.js';
import type { Command } from './command.js';

const usage = `promax datasets [--json]

Lists the datasets ProMax can find: the data directory (PROMAX_DATA_DIR, or ../shared/data beside
the checkout) first, then the copy bundled in the repository.`;

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

export const datasetsCommand: Command = {
  summary: 'list the datasets found, where, and their sizes',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean', default: false } },
      strict: true,
    });
    const dataDir = resolveDataDir(io.env);
    const listings = listDatasets({ dataDir });
    if (values.json) {
      io.out(
        `${JSON.stringify({ dataDir: dataDir ?? null, bundledDir: bundledDataDir() ?? null, datasets: listings })}\n`,
      );
      return 0;
    }
    io.out(
      `data directory: ${dataDir ?? '(none: set PROMAX_DATA_DIR)'}\nbundled: ${bundledDataDir() ?? '(none)'}\n\n`,
    );
    const rows = listings.map((d) => [
      d.name,
      d.origin,
      d.layout ?? '?',
      d.trainable ? 'yes' : 'no',
      mb(d.bytes),
      d.note ?? '',
      d.dir,
    ]);
    io.out(
      `${markdownTable(['dataset', 'found in', 'layout', 'trainable', 'size', 'note', 'path'], rows, ['l', 'l', 'l', 'l', 'r', 'l', 'l'])}\n`,
    );
    return 0;
  },
};
