// Tensor semantics need a backend to run. The CPU kernels package depends on this one, so it is
// imported here by path (a test-only edge) rather than as a dependency that would make the package
// graph cyclic.
import { registerBackend } from '../src/index.js';
import { createCpuBackend } from '../../kernels-cpu/src/index.js';

export { createCpuBackend };

/** Registers the CPU backend (idempotent). */
export function useCpu(): void {
  registerBackend(createCpuBackend());
}
