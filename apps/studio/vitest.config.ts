import { defineConfig } from 'vitest/config';

// The test builds the app with Vite, serves it and drives headless Chromium; the test process itself
// reads the workspace packages from their TypeScript sources.
const conditions = ['@tessera/source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: { include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 180_000, fileParallelism: false },
});
