import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (the `@tessera/source` export condition),
// so tests never need a prior build.
const conditions = ['@tessera/source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 120_000 },
});
