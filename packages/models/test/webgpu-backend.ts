// The WebGPU backend for this package's *.gpu.test.ts files, beside the CPU backend (the CPU stays
// the default). A missing adapter skips the tests locally and fails them under CI (env CI set): a
// run told a GPU is present must not pass by skipping.
import { registerBackend, setBackend } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createWebGpuBackend, type WebGpuBackend } from '@tessera/kernels-webgpu';

/** Registers the CPU and WebGPU backends; the WebGPU one, or null without an adapter outside CI. */
export async function webGpuOrNull(): Promise<WebGpuBackend | null> {
  registerBackend(createCpuBackend());
  try {
    const gpu = registerBackend(await createWebGpuBackend()) as WebGpuBackend;
    setBackend('cpu');
    return gpu;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping WebGPU tests: ${(err as Error).message}`);
    return null;
  }
}
