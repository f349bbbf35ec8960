import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions, type Plugin } from 'vite';

// Workspace packages resolve to their TypeScript sources (the `@tessera/source` export condition), so
// the studio builds without building the packages first.
const conditions = ['@tessera/source', ...defaultClientConditions];

/**
 * Writes precache.json, the list of every file of the build, which the service worker (public/sw.js)
 * caches on install: the studio then loads and trains with no network at all.
 */
function precacheList(): Plugin {
  return {
    name: 'tessera-studio-precache',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map'));
      this.emitFile({ type: 'asset', fileName: 'precache.json', source: `${JSON.stringify(['./', ...files], null, 1)}\n` });
    },
  };
}

export default defineConfig({
  // Relative URLs: the built folder works from any path, including file servers under a sub-folder.
  base: './',
  resolve: {
    conditions,
    // kernels-webgpu imports Dawn's Node binding only where navigator.gpu is absent; in a page that
    // import is replaced by a module that says so, and the studio falls back to the CPU.
    alias: [{ find: /^webgpu$/, replacement: fileURLToPath(new URL('./src/no-dawn.ts', import.meta.url)) }],
  },
  worker: { format: 'es', plugins: () => [] },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 4096 },
  plugins: [precacheList()],
});
