// The PyTorch fixture comparisons on WebGPU: the same suites, tolerances and fixtures as the CPU
// test files (llama-reference, gpt2, bert), with every model loaded by loadModel / loadGPT2OrBert
// onto the WebGPU backend and every input made there.
import { afterAll, describe } from 'vitest';
import { bertReferenceSuite, gpt2ReferenceSuite, llamaReferenceSuite, reportSuite } from './reference-suites.js';
import { webGpuOrNull } from './webgpu-backend.js';

const gpu = await webGpuOrNull();
afterAll(() => gpu?.destroy());

describe.skipIf(gpu === null)(`on WebGPU (${gpu?.adapterName ?? 'no adapter'})`, () => {
  llamaReferenceSuite('webgpu');
  gpt2ReferenceSuite('webgpu');
  bertReferenceSuite('webgpu');
  reportSuite();
});
