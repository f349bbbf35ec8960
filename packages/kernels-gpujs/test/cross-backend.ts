// Test support for gpujs cross-backend properties: gpu.js backends in each mode that works here,
// registered beside the CPU backend. Building views and comparing with the CPU is shared with
// kernels-webgpu through @tessera/autograd/testing.
import * as T from '@tessera/tensor';
import { numRuns as fcNumRuns } from '@tessera/autograd/testing';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createGpuJsBackend, provideNavigatorGpu, type GpuJsBackend, type GpuJsMode } from '../src/index.js';

export { draw, expectSame, layoutArb, makeView, rng, sameOnBoth, viewShapeArb as shapeArb, type Layout, type ValueKind } from '@tessera/autograd/testing';

T.registerBackend(createCpuBackend({ wasm: false }));

/** A gpu.js backend named `gpujs-<mode>` in `mode`, registered beside the CPU backend (which stays current). */
export async function gpujsBackend(mode: GpuJsMode): Promise<GpuJsBackend> {
  if (mode === 'webgpu') await provideNavigatorGpu();
  const backend = await createGpuJsBackend({ mode, name: `gpujs-${mode}` });
  T.registerBackend(backend);
  T.setBackend('cpu');
  return backend;
}

/**
 * The gpu.js WebGPU-mode backend, or null when no adapter exists. Under CI (env CI set) a missing
 * adapter is an error: a run told a GPU is present must fail, not skip.
 */
export async function gpujsWebGpuOrNull(): Promise<GpuJsBackend | null> {
  try {
    await provideNavigatorGpu();
    const adapter = await (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } }).navigator.gpu.requestAdapter();
    if (adapter === null) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter (install Mesa lavapipe, see TOOLCHAIN.md)');
    return await gpujsBackend('webgpu');
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping gpu.js WebGPU-mode tests: ${(err as Error).message}`);
    return null;
  }
}

/** Run count for properties: FC_NUM_RUNS from the environment, else 25. */
export const numRuns = (fallback = 25): number => fcNumRuns(fallback);
