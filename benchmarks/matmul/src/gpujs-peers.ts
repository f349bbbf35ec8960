// bench-matmul's gpujs rows: Tessera's matmul on @tessera/kernels-gpujs, in gpu.js's WebGPU mode (Dawn
// from the `webgpu` package; lavapipe on a machine without a GPU) and its cpu mode. Chosen with
// --peers=gpujs (both) or by row name; never in the default run (gpu.js cpu mode is slow).
import { createRequire } from 'node:module';
import { createGpuJsBackend, provideNavigatorGpu } from '@tessera/kernels-gpujs';
import { matmul, registerBackend, setBackend, tensor } from '@tessera/tensor';

const require = createRequire(import.meta.url);
const requireFromGpuJs = createRequire(require.resolve('@tessera/kernels-gpujs'));

/** The row names this module provides. */
export const GPUJS_ROWS = ['gpujs-webgpu', 'gpujs-cpu'] as const;

/** One gpujs row in bench-matmul's Peer shape (`run` resolves when the product is computed). */
export interface GpuJsMatmulPeer {
  name: string;
  version: string;
  threads: number;
  notes: string;
  prepare(n: number, a: Float32Array, b: Float32Array): Promise<{ run: () => Promise<void>; product: () => Promise<Float32Array>; release: () => void }>;
}

/**
 * The gpujs row `name`, or the reason it cannot run here. A timed run reads the product back: gpu.js
 * gives no other way to wait for WebGPU work, so the figure includes one N×N readback.
 */
export async function gpujsMatmulPeer(name: (typeof GPUJS_ROWS)[number]): Promise<GpuJsMatmulPeer | { error: string }> {
  const mode = name === 'gpujs-webgpu' ? 'webgpu' : 'cpu';
  try {
    if (mode === 'webgpu') await provideNavigatorGpu();
    registerBackend(await createGpuJsBackend({ mode, name }));
    setBackend('cpu');
  } catch (err) {
    return { error: `gpu.js ${mode} mode did not start: ${(err as Error).message}` };
  }
  const version = `${(require('@tessera/kernels-gpujs/package.json') as { version: string }).version} (gpu.js ${(requireFromGpuJs('gpu.js/package.json') as { version: string }).version})`;
  return {
    name,
    version,
    threads: 1,
    notes:
      mode === 'webgpu'
        ? 'createGpuJsBackend({ mode: "webgpu" }): a generated gpu.js kernel (WGSL via gpu.js), one output per thread, K loop unrolled by 4; timed with the product read back'
        : 'createGpuJsBackend({ mode: "cpu" }): the same generated kernel run as JavaScript by gpu.js',
    async prepare(n, a, b) {
      const ta = tensor(a, { shape: [n, n], device: name });
      const tb = tensor(b, { shape: [n, n], device: name });
      const product = async () => {
        const c = matmul(ta, tb);
        const data = (await c.data()) as Float32Array;
        c.dispose();
        return data;
      };
      return {
        run: async () => void (await product()),
        product,
        release: () => {
          ta.dispose();
          tb.dispose();
        },
      };
    },
  };
}
