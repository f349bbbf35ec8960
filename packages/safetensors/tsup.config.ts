import { defineConfig } from 'tsup';

export default defineConfig({
  // `node` is its own entry so the browser build of `index` never pulls `node:fs`.
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm', 'cjs'],
  // Shared chunks in CJS too, so `index` and `node` share one SafetensorsError class and
  // `instanceof` works whichever entry threw.
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
