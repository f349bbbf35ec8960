// Test support for cross-backend properties: one WebGPU backend per test file, registered beside the
// CPU backend. Building views and comparing with the CPU is shared with kernels-gpujs through
// @tessera/autograd/testing.
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { numRuns as fcNumRuns, sameOnBoth as sameOnDevices } from '@tessera/autograd/testing';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from '../src/index.js';

export { draw, expectSame, layoutArb, makeView, rng, viewShapeArb as shapeArb, type Layout, type ValueKind } from '@tessera/autograd/testing';

T.registerBackend(createCpuBackend({ wasm: false }));

/**
 * The WebGPU backend, or null when no adapter exists. Under CI (env CI set) a missing adapter is an
 * error: a run told a GPU is present must fail, not skip.
 */
export async function gpuOrNull(opts?: WebGpuBackendOptions): Promise<WebGpuBackend | null> {
  try {
    const gpu = await createWebGpuBackend(opts);
    T.registerBackend(gpu);
    T.setBackend('cpu');
    return gpu;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping WebGPU tests: ${(err as Error).message}`);
    return null;
  }
}

/** Run count for properties: FC_NUM_RUNS from the environment, else 25. */
export const numRuns = (fallback = 25): number => fcNumRuns(fallback);

/** Runs `build` on the CPU and WebGPU backends (same arguments) and compares the results; disposes both. */
export const sameOnBoth = (what: string, build: (device: string) => Tensor, tol?: [number, number]): Promise<void> => sameOnDevices('webgpu', what, build, tol);
