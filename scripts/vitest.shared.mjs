// Shared per-project vitest settings (each package's vitest.config.ts re-exports this).
import { defineProject } from 'vitest/config';

const conditions = ['@promax/source', 'node', 'import', 'module', 'default'];

export function projectConfig(name) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@promax/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  });
}
