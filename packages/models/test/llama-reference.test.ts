// The Llama family held to PyTorch on the CPU: fixtures written by scripts/reference/llama_reference.py
// (a plain-PyTorch transcription of transformers' modeling_llama/mistral/qwen2/qwen3) give logits,
// loss, every parameter's gradient, three AdamW steps and a greedy continuation for tiny random
// models. The same suite runs on WebGPU in reference.gpu.test.ts.
import { registerBackend } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { llamaReferenceSuite, reportSuite } from './reference-suites.js';

registerBackend(createCpuBackend());

llamaReferenceSuite('cpu');

reportSuite();
