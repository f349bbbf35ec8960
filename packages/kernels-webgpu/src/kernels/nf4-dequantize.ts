// NF4 dequantisation: code[nibble] * (scaleCode[scalesQ[block]] * scales2[block / 256] + offset).
// The 256-entry scale code travels in a small storage buffer, cached per code array.
import { NF4_BLOCK, NF4_SCALE_BLOCK, type Nf4Attrs, type Storage, type TensorView } from '@tessera/tensor';
import type { GpuContext } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { f32Bits, runMap } from '../map-dispatch.js';
import { extraBase, operandBase } from '../wgsl/indexing.js';
import { NF4_LEVELS_WGSL, scaleCodeBuffer } from './nf4-scale-code.js';


const E = extraBase(4);
const NF4 = NF4_LEVELS_WGSL;

/** The f32 weight of a packed NF4 tensor. */
export const nf4DequantizeKernel: GpuKernel<Nf4Attrs> = (ctx, [packed, scalesQ, scales2], attrs, out) => {
  const codeView: TensorView = { storage: { data: scaleCodeBuffer(ctx, attrs.scaleCode) } as unknown as Storage, shape: [256], strides: [1], offset: 0, dtype: 'f32' };
  return runMap(ctx, {
    key: 'nf4Dequantize',
    spec: {
      inputs: ['u8', 'u8', 'f32', 'f32'],
      out: 'f32',
      value: `let block = i / ${NF4_BLOCK}u;
  let scale = in3(in1(p(${operandBase(1)}u) + block)) * in2(p(${operandBase(2)}u) + block / ${NF4_SCALE_BLOCK}u) + pf(${E}u);
  let byte = in0(p(${operandBase(0)}u) + (i >> 1u));
  let idx = select(byte >> 4u, byte & 15u, (i & 1u) == 1u);
  var code = ${NF4};
  return code[idx] * scale;`,
    },
    shape: out.shape,
    inputs: [packed!, scalesQ!, scales2!, codeView],
    strides: [[], [], [], []].map(() => out.shape.map(() => 0)),
    extra: [f32Bits(attrs.offset)],
    where: 'nf4Dequantize',
  });
};
