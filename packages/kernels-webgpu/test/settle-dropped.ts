// Leak checks compare the backend's live buffer bytes before and after a step. Tensors that earlier
// tests dropped without dispose are released by @tessera/tensor's FinalizationRegistry whenever the
// garbage collector gets to them; when that falls in the measured step their buffers read as a
// negative leak. (Tensor counts need no collection: `memory().numUndisposed` ignores such releases.)
// Collecting them before the baseline leaves only the step's own buffers to count; buffers of
// tensors the step itself drops still show, as they should. The helper is @tessera/tensor's test
// helper, by path: the package exports no testing entry (kernels-webgpu depends on tensor, so no cycle).
export { settleDroppedTensors } from '../../tensor/test/settle-dropped.js';
