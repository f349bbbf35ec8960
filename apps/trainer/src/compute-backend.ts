import { createCpuBackend } from '@tessera/kernels-cpu';
import { registerBackend, setBackend } from '@tessera/tensor';

/** Where a run computes. */
export type BackendName = 'cpu' | 'webgpu';

/**
 * Registers the CPU backend and, for 'webgpu', a WebGPU device (navigator.gpu, or Dawn in Node)
 * made the default for new tensors; returns a line naming the device chosen, which the CLI prints.
 */
export async function useComputeBackend(name: BackendName): Promise<string> {
  registerBackend(createCpuBackend());
  if (name === 'cpu') return 'backend: cpu';
  const { createWebGpuBackend } = await import('@tessera/kernels-webgpu');
  let gpu;
  try {
    gpu = await createWebGpuBackend();
  } catch (err) {
    throw new Error(`--backend webgpu: no WebGPU adapter (${(err as Error).message}); on Linux without a GPU install Mesa's lavapipe from bookworm-backports, or use --backend cpu`);
  }
  registerBackend(gpu);
  setBackend(gpu.name);
  return `backend: webgpu (adapter: ${gpu.adapterName})`;
}
