// Fused AdamW update (Backend.adamwUpdate): each of param', m', v' is one dispatch of the same
// shader, selected by a parameter word, instead of the ~12 elementwise dispatches and temporaries of
// the composed adamwStep. Each dispatch recomputes m' and v' (a few flops) rather than writing three
// buffers from one invocation, because the context binds exactly one writable buffer per dispatch.
// Only contiguous f32 tensors are fused; anything else returns null and adamwStep composes ops.
import type { AdamWResolved, TensorView } from '@tessera/tensor';
import { PARAM_WORDS, WORKGROUP, type GpuContext } from '../gpu-context.js';
import { elementShift, elementsPerBinding, PIECE, planRanges, windowOf, windowWord, type Binding } from '../binding-window.js';
import { bufferOf, f32Bits } from '../map-dispatch.js';
import { INDEXING } from '../wgsl/indexing.js';

const SOURCE = `${INDEXING}
@group(0) @binding(1) var<storage, read> bp: array<f32>;
@group(0) @binding(2) var<storage, read> bg: array<f32>;
@group(0) @binding(3) var<storage, read> bm: array<f32>;
@group(0) @binding(4) var<storage, read> bv: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WORKGROUP}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // One piece (binding-window.ts): elements start .. start + count, the output written through a window.
  let local = (wid.y * nwg.x + wid.x) * ${WORKGROUP}u + lid.x;
  let i = p(${PIECE.start}u) + local;
  let n = p(0u);
  if (local >= p(${PIECE.count}u) || i >= n) { return; }
  let o = i - p(${PIECE.outShift}u);
  let which = p(1u);
  // Scalars are combined on the host in f64, as the composed adamwStep does, then rounded once.
  let beta1 = pf(2u); let oneMinusBeta1 = pf(3u); let beta2 = pf(4u); let oneMinusBeta2 = pf(5u);
  let decay = pf(6u); let sqrtBc2 = pf(7u); let eps = pf(8u); let stepSize = pf(13u);
  let g = bg[p(10u) + i];
  let m2 = bm[p(11u) + i] * beta1 + g * oneMinusBeta1;
  if (which == 1u) { out[o] = m2; return; }
  let v2 = bv[p(12u) + i] * beta2 + (g * g) * oneMinusBeta2;
  if (which == 2u) { out[o] = v2; return; }
  // Same order of operations as the composed adamwStep, so both round alike.
  let decayed = bp[p(9u) + i] * decay;
  let denom = sqrt(v2) / sqrtBc2 + eps;
  out[o] = decayed - (m2 / denom) * stepSize;
}`;

function fusable(t: TensorView, n: number): boolean {
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (t.dtype !== 'f32' || size !== n) return false;
  let stride = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.strides[d] !== stride) return false;
    stride *= t.shape[d]!;
  }
  return true;
}

/** Records the fused AdamW update; returns the three new buffers, or null where the inputs are not contiguous f32. */
export function adamwUpdateBuffers(ctx: GpuContext, param: TensorView, grad: TensorView, m: TensorView, v: TensorView, h: AdamWResolved): { param: GPUBuffer; m: GPUBuffer; v: GPUBuffer } | null {
  const n = param.shape.reduce((a, b) => a * b, 1);
  if (n === 0 || ![param, grad, m, v].every((t) => fusable(t, n))) return null;
  const pipeline = ctx.pipelines.get('adamw-update', 4, () => SOURCE);
  const views = [param, grad, m, v];
  const reads = views.map(bufferOf);
  // Pieces of elements whose windows fit one binding (one piece unless a tensor exceeds it).
  const windows = (i0: number, i1: number) => views.map((t, k) => windowOf(ctx, reads[k]!, 'f32', t.offset + i0, t.offset + i1 - 1));
  const pieces = planRanges(n, 1, elementsPerBinding(ctx, 'f32'), (i0, i1) => windows(i0, i1).every((w) => w !== null))!;
  const outs = [0, 1, 2].map((which) => {
    const params = new Uint32Array(PARAM_WORDS);
    const scalars = [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, 1 - h.lr * h.weightDecay, Math.sqrt(h.bc2), h.eps].map(f32Bits);
    params.set([n, which, ...scalars, param.offset, grad.offset, m.offset, v.offset, f32Bits(h.lr / h.bc1)]);
    const out = ctx.acquire(n * 4);
    for (const [i0, i1] of pieces) {
      const w = windows(i0, i1) as Binding[];
      const write = windowOf(ctx, out, 'f32', i0, i1 - 1)!;
      const p = params.slice();
      w.forEach((b, k) => (p[9 + k] = (views[k]!.offset - elementShift(b, 'f32')) >>> 0));
      p[PIECE.start] = i0;
      p[PIECE.count] = i1 - i0;
      p[PIECE.outShift] = windowWord(write);
      ctx.dispatch(pipeline, w, write, p, Math.ceil((i1 - i0) / WORKGROUP));
    }
    return out;
  });
  return { param: outs[0]!, m: outs[1]!, v: outs[2]! };
}

