// The page that test/browser.gpu.test.ts bundles and opens in headless Chromium. It creates the gpujs
// backend on the page's WebGL (gpu.js picks WebGL2, then WebGL) beside the CPU backend and runs the
// same property table as the Node tests (op-properties.ts, special-values.ts, with vitest replaced by
// browser-vitest-shim.ts), then the 1-block transformer's loss and gradients on both backends.
import * as T from '@tessera/tensor';
import { createGpuJsBackend } from '../src/index.js';
import { collected } from './browser-vitest-shim.js';
import { gpujsBackend, numRuns } from './cross-backend.js';
import { edgeValueProperties } from './edge-value-properties.js';
import { fusedProperties } from './fused-properties.js';
import { indexBoundsProperties } from './index-bounds-properties.js';
import { primitiveProperties } from './op-properties.js';
import { specialValueTests } from './special-values.js';
import { transformerLossAndGrads } from './transformer.js';

/** One property's outcome. */
export interface PropertyOutcome {
  readonly name: string;
  readonly error: string | null;
  readonly ms: number;
}

/** What the page reports. */
export type BrowserResult =
  | {
      readonly ok: true;
      readonly mode: string;
      /** fast-check runs per property (FC_NUM_RUNS, put into the bundle by the test). */
      readonly numRuns: number;
      readonly properties: PropertyOutcome[];
      /** Loss then every gradient, flattened, on each backend. */
      readonly training: { readonly cpu: number[]; readonly gpujs: number[] };
      readonly leakedTensors: number;
      /** What creating a backend with gpu.js's 8-bit ('unsigned') textures said: it must be refused. */
      readonly lowPrecisionError: string | null;
    }
  | { readonly ok: false; readonly error: string };

async function main(): Promise<BrowserResult> {
  try {
    const mode = (new URLSearchParams(location.search).get('mode') ?? 'gpu') as 'gpu' | 'webgl' | 'webgl2';
    const backend = await gpujsBackend(mode);
    primitiveProperties(backend.name);
    fusedProperties(backend.name);
    indexBoundsProperties(backend.name);
    edgeValueProperties(backend.name);
    specialValueTests(backend.name);
    const properties: PropertyOutcome[] = [];
    for (const { name, fn } of collected) {
      const start = performance.now();
      try {
        await fn();
        properties.push({ name, error: null, ms: performance.now() - start });
      } catch (err) {
        properties.push({ name, error: (err as Error).message, ms: performance.now() - start });
      }
    }
    // The first run warms caches that live on (rotary tables); the second must leave nothing behind.
    const cpu = await transformerLossAndGrads('cpu');
    await transformerLossAndGrads(backend.name);
    const before = T.memory().backends[backend.name]?.numUndisposed ?? 0;
    const training = { cpu, gpujs: await transformerLossAndGrads(backend.name) };
    const leakedTensors = (T.memory().backends[backend.name]?.numUndisposed ?? 0) - before;
    const lowPrecisionError = await createGpuJsBackend({ mode, precision: 'unsigned', name: 'gpujs-unsigned' }).then(
      () => null,
      (err: Error) => err.message,
    );
    return { ok: true, mode: backend.mode, numRuns: numRuns(), properties, training, leakedTensors, lowPrecisionError };
  } catch (err) {
    return { ok: false, error: (err as Error).stack ?? String(err) };
  }
}

(globalThis as { tesseraResult?: BrowserResult }).tesseraResult = await main();
