import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';

describe('promax models / methods (derived from the installed plugins)', () => {
  it('lists every built-in model and method with its package and settings', async () => {
    const io = captureIo();
    expect(await main(['models', '--json'], io), io.stderr()).toBe(0);
    const models = JSON.parse(io.stdout()) as { id: string; package: string; presets: string[] }[];
    const ids = models.map((m) => m.id);
    for (const id of ['mf', 'lightgcn', 'gccf', 'simgcl', 'sgl']) expect(ids).toContain(id);
    expect(models.find((m) => m.id === 'sgl')?.presets).toEqual(['amazon-book', 'yelp', 'steam']);
    // A model that reads inputs lists them like a method (AlphaRec: item profile embeddings).
    const io1 = captureIo();
    expect(await main(['models'], io1), io1.stderr()).toBe(0);
    expect(io1.stdout()).toMatch(
      /alpharec\s+AlphaRec: .*\n.*package @promax\/model-alpharec; settings: embeddingSize=64/,
    );
    expect(io1.stdout()).toMatch(/input itemProfileEmbeddings \(required\)/);
    const io2 = captureIo();
    expect(await main(['methods'], io2), io2.stderr()).toBe(0);
    expect(io2.stdout()).toMatch(
      /promax\s+ProMax .*\n\s+package @promax\/method-promax; settings: sdr=\{enabled,lambda1/,
    );
    expect(io2.stdout()).toMatch(/input augmentedGraph \(optional\)/);
    // What `promax tune` searches by default, as each definition declares it.
    expect(io2.stdout()).toContain('tune searches: kdWeight (weight), kdTemperature (temperature)');
    const io3 = captureIo();
    expect(await main(['methods', '--json'], io3), io3.stderr()).toBe(0);
    const methods = JSON.parse(io3.stdout()) as { id: string; tunable: Record<string, string> | null }[];
    expect(methods.find((m) => m.id === 'rlmrec-gen')?.tunable).toEqual({
      reconWeight: 'weight',
      reconTemperature: 'temperature',
      maskRatio: 'ratio',
    });
  });

  it('an unknown --model or --method is a named error with the installed ones', async () => {
    const io = captureIo();
    expect(
      await main(['train', '--dataset', 'amazon-book', '--model', 'lightgnc', '--out', '/tmp/x'], io),
    ).toBe(2);
    expect(io.stderr()).toMatch(/PLUGIN_NOT_FOUND.*unknown model 'lightgnc' — did you mean 'lightgcn'/);
    const io2 = captureIo();
    expect(
      await main(['train', '--dataset', 'amazon-book', '--method', 'promaxx', '--out', '/tmp/x'], io2),
    ).toBe(2);
    expect(io2.stderr()).toMatch(/unknown method 'promaxx' — did you mean 'promax'/);
  });
});
