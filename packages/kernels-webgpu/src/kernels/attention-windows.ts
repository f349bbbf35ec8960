// Dispatching the fused attention kernels over binding windows. The grid is one workgroup per 16
// rows (queries in the query passes, keys in the key pass) of every (batch, head) slot, in slot-major
// order; when an operand or the output is larger than one binding, the grid is cut into consecutive
// ranges of workgroups whose reads and writes each fit a window: a range covers a box of (batch,
// head, row) coordinates, and each operand is bound over the part of it that box reaches (the whole
// key/value rows of its heads for a query pass, the whole query rows for the key pass). The key
// pass's output stacks dK over dV half a buffer apart; when that buffer is over the limit each range
// runs twice, writing dK then dV through their own windows (the scores are recomputed, twice the
// work, only for tensors this large).
import type { TensorView } from '@tessera/tensor';
import { BindingLimitError, bindingLimitMessage, boxSpan, elementShift, planRanges, windowOf, windowWord, type Binding } from '../binding-window.js';
import type { GpuContext } from '../gpu-context.js';
import { bufferOf } from '../map-dispatch.js';
import { OPERAND, W, type OperandName } from './attention-shader.js';

/** Which pass: workgroups own 16 queries of a query head, or 16 keys of a kv head. */
export type AttentionPass = 'query' | 'key';

/** An operand's 4 strides as the shader reads them (right-aligned; size-1 and missing dims 0), as writeOperand writes them. */
function strides4(view: TensorView): number[] {
  const r = view.shape.length;
  return [0, 1, 2, 3].map((i) => {
    const k = i - (4 - r);
    return k < 0 || view.shape[k] === 1 ? 0 : view.strides[k]!;
  });
}

/** A box of 4-D coordinates: first coordinate and length per dim. */
interface Box {
  lo: [number, number, number, number];
  len: [number, number, number, number];
}

/**
 * Records a fused attention kernel: one dispatch when everything fits its binding, else one per range
 * of workgroups (and per dK/dV half in the key pass when the output must be split). `params` hold the
 * sizes and the operands' offsets and strides; ROW_TILES must be set (tiles of `tileRows` rows).
 */
export function dispatchAttention(ctx: GpuContext, where: string, pipeline: GPUComputePipeline, reads: readonly { name: OperandName; view: TensorView }[], out: GPUBuffer, params: Uint32Array, pass: AttentionPass, tileRows: number): void {
  const [B, H, HKV, T, S, D] = [W.B, W.H, W.HKV, W.T, W.S, W.D].map((w) => params[w]!) as [number, number, number, number, number, number];
  const G = H / HKV;
  const tiles = params[W.ROW_TILES]!;
  const slots = pass === 'query' ? H : HKV; // heads of the grid
  const rows = pass === 'query' ? T : S;
  const cols = pass === 'query' ? params[W.OUT_COLS] || D : D;
  const total = B * slots * tiles;
  const buffers = reads.map((r) => bufferOf(r.view));
  const half = B * HKV * S * D; // dK to dV in the key pass's output
  const parts = pass === 'key' && out.size > ctx.maxBindingBytes ? [1, 2] : [0];

  // The box of (batch, head, row) workgroups o0 .. o1 - 1 cover (rows inclusive, clipped to the rows that exist).
  const cover = (o0: number, o1: number) => {
    const s0 = Math.floor(o0 / tiles);
    const s1 = Math.floor((o1 - 1) / tiles);
    const [r0, r1] = s0 === s1 ? [(o0 % tiles) * tileRows, Math.min(rows, ((o1 - 1) % tiles) * tileRows + tileRows) - 1] : [0, rows - 1];
    const b0 = Math.floor(s0 / slots);
    const b1 = Math.floor(s1 / slots);
    const [x0, x1] = b0 === b1 ? [s0 % slots, s1 % slots] : [0, slots - 1];
    return { s0, s1, r0, r1, b0, nb: b1 - b0 + 1, x0, nx: x1 - x0 + 1 };
  };
  // What each operand reads over a cover, as a box of its 4 shader coordinates.
  const boxOf = (name: OperandName, c: ReturnType<typeof cover>): Box => {
    const nr = c.r1 - c.r0 + 1;
    if (pass === 'query') {
      const hk0 = Math.floor(c.x0 / G);
      const nhk = Math.floor((c.x0 + c.nx - 1) / G) - hk0 + 1;
      switch (name) {
        case 'k':
        case 'v':
          return { lo: [c.b0, hk0, 0, 0], len: [c.nb, nhk, S, D] };
        case 'mask':
          return { lo: [c.b0, c.x0, c.r0, 0], len: [c.nb, c.nx, nr, S] };
        case 'lse':
        case 'delta':
          return { lo: [0, c.b0, c.x0, c.r0], len: [1, c.nb, c.nx, nr] };
        default: // q, dO
          return { lo: [c.b0, c.x0, c.r0, 0], len: [c.nb, c.nx, nr, D] };
      }
    }
    const h0 = c.x0 * G;
    const nh = c.nx * G;
    switch (name) {
      case 'k':
      case 'v':
        return { lo: [c.b0, c.x0, c.r0, 0], len: [c.nb, c.nx, nr, D] };
      case 'mask':
        return { lo: [c.b0, h0, 0, c.r0], len: [c.nb, nh, T, nr] };
      case 'lse':
      case 'delta':
        return { lo: [0, c.b0, h0, 0], len: [1, c.nb, nh, T] };
      default: // q, dO
        return { lo: [c.b0, h0, 0, 0], len: [c.nb, nh, T, D] };
    }
  };
  const inputBindings = (c: ReturnType<typeof cover>): (Binding | null)[] =>
    reads.map((r, k) => {
      const box = boxOf(r.name, c);
      const [min, max] = boxSpan(r.view.offset, strides4(r.view), box.lo, box.len);
      return windowOf(ctx, buffers[k]!, r.view.dtype, min, max);
    });
  // The output elements a cover writes: its rows of the slots s0..s1, in dK or dV for the key pass.
  const outBinding = (c: ReturnType<typeof cover>, part: number): Binding | null => {
    const lo = (c.s0 * rows + c.r0) * cols;
    const hi = (c.s1 * rows + c.r1) * cols + cols - 1;
    if (part === 0) return windowOf(ctx, out, 'f32', lo, pass === 'key' ? hi + half : hi);
    return windowOf(ctx, out, 'f32', part === 1 ? lo : lo + half, part === 1 ? hi : hi + half);
  };
  const fits = (o0: number, o1: number) => {
    const c = cover(o0, o1);
    return inputBindings(c).every((b) => b !== null) && parts.every((part) => outBinding(c, part) !== null);
  };
  const pieces = planRanges(total, 1, total, fits);
  if (!pieces) {
    const c = cover(0, 1);
    const k = inputBindings(c).findIndex((b) => b === null);
    const what = k < 0 ? 'its output row block' : `its ${reads[k]!.name} [${reads[k]!.view.shape.join(',')}] ${reads[k]!.view.dtype}, whose rows one workgroup reads,`;
    throw new BindingLimitError(bindingLimitMessage(`webgpu: ${where}`, what, (k < 0 ? out : buffers[k]!).size, ctx));
  }
  for (const [o0, o1] of pieces) {
    const c = cover(o0, o1);
    const bindings = inputBindings(c) as Binding[];
    for (const part of parts) {
      const write = outBinding(c, part)!;
      const p = params.slice();
      reads.forEach((r, k) => (p[OPERAND[r.name]] = (r.view.offset - elementShift(bindings[k]!, r.view.dtype)) >>> 0));
      p[W.O0] = o0;
      p[W.GROUPS] = o1 - o0;
      p[W.OUT_SHIFT] = windowWord(write);
      p[W.KV_PART] = part;
      ctx.dispatch(pipeline, bindings, write, p, o1 - o0);
    }
  }
}
