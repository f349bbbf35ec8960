import { defineConfig } from 'vitest/config';

// Benchmarks run as plain vitest files (so workspace packages resolve to their sources), one at a time.
const conditions = ['@tessera/source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: { include: ['bench/**/*.bench-run.ts'], testTimeout: 600_000, fileParallelism: false },
});
