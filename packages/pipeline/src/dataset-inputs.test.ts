import { csrFromCoo, missingInputError } from '@promax/core';
import type { Dataset } from '@promax/data';
import { describe, expect, it } from 'vitest';
import { datasetInputs } from './experiment.js';

const train = csrFromCoo({ rows: 2, cols: 2, row: [0, 1], col: [1, 0] }).matrix;
const m = (rows: number) => ({ rows, cols: 3, data: new Float32Array(rows * 3) });

function dataset(extra: Dataset['extraProfiles']): Dataset {
  return {
    name: 'tiny',
    numUsers: 2,
    numItems: 2,
    train,
    test: train,
    userEmb: m(2),
    itemEmb: m(2),
    ...(extra ? { extraProfiles: extra } : {}),
    sourceDir: '/d',
    files: { userEmb: '/d/usr_emb_np.pkl', itemEmb: '/d/itm_emb_np.pkl' },
    report: {} as Dataset['report'],
  };
}

describe('datasetInputs: extra profile embeddings', () => {
  it('passes a complete set on, with its files as the source', () => {
    const inputs = datasetInputs(
      dataset({
        users: [m(2)],
        items: [m(2)],
        files: ['/d/usr_emb_np_1.pkl', '/d/itm_emb_np_1.pkl'],
        missing: [],
      }),
    );
    expect(inputs.extraProfiles?.users).toHaveLength(1);
    expect(inputs.sources?.extraProfileEmbeddings).toBe('/d/usr_emb_np_1.pkl + /d/itm_emb_np_1.pkl');
  });

  it('a partial set is absent and the MISSING_INPUT error names the missing files', () => {
    const inputs = datasetInputs(
      dataset({ users: [], items: [], files: [], missing: ['/d/itm_emb_np_2.pkl', '/d/usr_emb_np_3.pkl'] }),
    );
    expect(inputs.extraProfiles).toBeUndefined();
    const err = missingInputError('proex', 'extraProfileEmbeddings', inputs);
    expect(err.code).toBe('MISSING_INPUT');
    expect(err.message).toMatch(/itm_emb_np_2\.pkl, \/d\/usr_emb_np_3\.pkl .*incomplete/);
    const none = datasetInputs(dataset(undefined));
    expect(missingInputError('proex', 'extraProfileEmbeddings', none).message).toMatch(
      /looked for \/d\/usr_emb_np_\{1,2,3\}\.pkl \+ itm_emb_np_\{1,2,3\}\.pkl\)/,
    );
    // profile embeddings from `--embeddings DIR`: the variants were looked for beside them too
    const fromEmb = dataset(undefined);
    fromEmb.files.userEmb = '/emb/usr_emb.npy';
    const err2 = missingInputError('proex', 'extraProfileEmbeddings', datasetInputs(fromEmb));
    expect(err2.message).toMatch(
      /looked for \/emb\/usr_emb_np_\{1,2,3\}\.npy \+ itm_emb_np_\{1,2,3\}\.npy, or \/d\/usr_emb_np_\{1,2,3\}\.pkl/,
    );
    expect(err2.fix).toMatch(
      /promax profiles --dataset D .*--variants 3 .*then promax embed --profiles PROFILES .*--embeddings EMB/,
    );
  });
});

describe('datasetInputs: item profile embeddings alone (AlphaRec)', () => {
  it('are present with the item file as their source, even without user profiles', () => {
    const ds = { ...dataset(undefined), userEmb: undefined, files: { itemEmb: '/d/itm_emb_np.pkl' } };
    const inputs = datasetInputs(ds);
    expect(inputs.itemProfiles?.rows).toBe(2);
    expect(inputs.sources?.itemProfileEmbeddings).toBe('/d/itm_emb_np.pkl');
    expect(inputs.sources?.profileEmbeddings).toBeUndefined();
  });

  it('absent: the MISSING_INPUT error of a model names the item file looked for', () => {
    const inputs = datasetInputs({ ...dataset(undefined), itemEmb: undefined, files: {} });
    const err = missingInputError('alpharec', 'itemProfileEmbeddings', inputs, 'model');
    expect(err.code).toBe('MISSING_INPUT');
    expect(err.message).toMatch(/^model alpharec needs item profile embeddings .*\/d\/itm_emb_np\.pkl/);
    expect(err.details).toEqual({ model: 'alpharec', input: 'itemProfileEmbeddings' });
    expect(missingInputError('kar', 'profileEmbeddings', inputs).message).toMatch(/^method kar needs/);
  });
});
