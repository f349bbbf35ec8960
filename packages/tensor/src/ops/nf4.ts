// NF4 (4-bit NormalFloat, Dettmers et al. 2023): weights stored as 4-bit indices into a code book of
// normal quantiles, one absmax scale per block of 64, the scales themselves quantised to 8 bits
// (double quantisation). These ops read that packed form; the matmul composite lets a backend
// dequantise block by block inside the product, so a 4-bit base never exists in full precision.
import { apply, defineOp, type CompositeDef, type PrimitiveDef } from '../op.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { matmul } from './matmul.js';
import { transpose } from './permute.js';

/** bitsandbytes' NF4 code book (index 0..15). */
export const NF4_CODE = Object.freeze([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/** Values per NF4 block and per block of quantised scales, as QLoRA uses them. */
export const NF4_BLOCK = 64;
export const NF4_SCALE_BLOCK = 256;

/** What a packed NF4 weight carries besides its three tensors. */
export interface Nf4Attrs {
  /** Logical shape of the weight, (out, in) for a linear layer. */
  shape: number[];
  /** Mean subtracted from the block scales before their 8-bit quantisation. */
  offset: number;
  /** The 256-entry code of the 8-bit scale quantisation (bitsandbytes' dynamic map). */
  scaleCode: readonly number[];
}

function checkPacked(where: string, packed: Tensor, scalesQ: Tensor, scales2: Tensor, { shape }: Nf4Attrs): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const blocks = Math.ceil(n / NF4_BLOCK);
  if (packed.dtype !== 'u8' || packed.size !== Math.ceil(n / 2)) {
    throw new RangeError(`${where}: packed indices must be u8 with ${Math.ceil(n / 2)} bytes for a weight ${fmtShape(shape)} (got ${packed.dtype} ${fmtShape(packed.shape)})`);
  }
  if (scalesQ.dtype !== 'u8' || scalesQ.size !== blocks) {
    throw new RangeError(`${where}: quantised scales must be u8, one per block of ${NF4_BLOCK} (${blocks}); got ${scalesQ.dtype} ${fmtShape(scalesQ.shape)}`);
  }
  if (scales2.dtype !== 'f32' || scales2.size !== Math.ceil(blocks / NF4_SCALE_BLOCK)) {
    throw new RangeError(`${where}: second-level scales must be f32, one per ${NF4_SCALE_BLOCK} blocks (${Math.ceil(blocks / NF4_SCALE_BLOCK)}); got ${scales2.dtype} ${fmtShape(scales2.shape)}`);
  }
}

/** Dequantises packed NF4 (indices, 8-bit block scales, f32 second-level scales) to an f32 tensor of `shape`. */
export const nf4DequantizeOp: PrimitiveDef<Nf4Attrs> = defineOp<Nf4Attrs>({
  name: 'nf4Dequantize',
  kind: 'primitive',
  differentiable: false,
  infer: ([packed, scalesQ, scales2], attrs) => {
    checkPacked('nf4Dequantize', packed!, scalesQ!, scales2!, attrs);
    return { shape: attrs.shape, dtype: 'f32' };
  },
});

/** The f32 weight a packed NF4 tensor stands for. */
export function nf4Dequantize(packed: Tensor, scalesQ: Tensor, scales2: Tensor, attrs: Nf4Attrs): Tensor {
  return apply(nf4DequantizeOp, [packed, scalesQ, scales2], attrs);
}

/** Attributes of the NF4 product: y = x Wᵀ (or x W when `transposeW` is false). */
export interface Nf4MatmulAttrs extends Nf4Attrs {
  transposeW: boolean;
}

/**
 * x (..., in) times the NF4 weight W (out, in) transposed: (..., out); or x (..., out) times W when
 * `transposeW` is false (how its gradient with respect to x runs). No gradient reaches the frozen weight.
 */
export const nf4MatmulOp: CompositeDef<Nf4MatmulAttrs> = defineOp<Nf4MatmulAttrs>({
  name: 'nf4Matmul',
  kind: 'composite',
  differentiable: true,
  infer: ([x, packed, scalesQ, scales2], attrs) => {
    checkPacked('nf4Matmul', packed!, scalesQ!, scales2!, attrs);
    const [out, inF] = attrs.shape as [number, number];
    const k = attrs.transposeW ? inF : out;
    if (x!.shape[x!.rank - 1] !== k) throw new RangeError(`nf4Matmul: input ${fmtShape(x!.shape)} must end in ${k} for a weight ${fmtShape(attrs.shape)}`);
    return { shape: [...x!.shape.slice(0, -1), attrs.transposeW ? out : inF], dtype: x!.dtype };
  },
  decompose: ([x, packed, scalesQ, scales2], attrs) => {
    const w = apply(nf4DequantizeOp, [packed!, scalesQ!, scales2!], attrs);
    const wc = x!.dtype === 'f32' ? w : w.cast(x!.dtype);
    return matmul(x!, attrs.transposeW ? transpose(wc) : wc);
  },
  vjp: (dy, { inputs: [, packed, scalesQ, scales2], attrs }) => [
    apply(nf4MatmulOp, [dy, packed!, scalesQ!, scales2!], { ...attrs, transposeW: !attrs.transposeW }),
    null,
    null,
    null,
  ],
});

/** x Wᵀ for a packed NF4 weight W (out, in): a linear layer over a 4-bit base. */
export function nf4Linear(x: Tensor, packed: Tensor, scalesQ: Tensor, scales2: Tensor, attrs: Nf4Attrs): Tensor {
  if (attrs.shape.length !== 2) throw new RangeError(`nf4Linear: the weight must be 2-D (out, in); got ${fmtShape(attrs.shape)}`);
  return apply(nf4MatmulOp, [x, packed, scalesQ, scales2], { ...attrs, transposeW: true });
}

