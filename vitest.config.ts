import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of workspace packages through the
// "@promax/source" export condition, so no build is needed to test.
const conditions = ['@promax/source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@promax/source'] } },
  test: {
    projects: ['packages/*', 'models/*', 'methods/[!.]*', 'apps/*', 'examples/*'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.mjs'],
  },
});
