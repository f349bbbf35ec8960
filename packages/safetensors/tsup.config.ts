import { defineConfig } from 'tsup';

export default defineConfig({
  // `node` is its own entry so the browser build of `index` never pulls `node:fs`.
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
