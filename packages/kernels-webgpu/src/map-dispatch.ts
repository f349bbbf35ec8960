// Runs a map shader (wgsl/map-shader.ts): allocates the output, fills the shared layout words and
// dispatches one invocation per output word. Kernels pass their own words in `extra`. When the output
// or an input is larger than one binding, the output is cut into pieces whose windows fit
// (binding-window.ts): boxes of the iteration shape for unpacked outputs (so a transposed input gets
// square-ish tiles), flat word ranges for packed ones (computed unpacked and packed after when flat
// ranges cannot fit an input).
import { contiguousStrides, type DType, type Shape, type TensorView } from '@tessera/tensor';
import {
  BindingLimitError,
  bindingLimitMessage,
  boxesOf,
  boxSpan,
  elementShift,
  elementsPerBinding,
  planBoxLengths,
  planRanges,
  PIECE,
  PIECE_WORDS_START,
  rangeSpan,
  windowOf,
  windowWord,
  type Binding,
} from './binding-window.js';
import { GpuContext, PARAM_WORDS, WORKGROUP } from './gpu-context.js';
import { convertExpr, elementsPerWord, isPacked, storageBytes, widened } from './wgsl/dtype-io.js';
import { extraBase, operandBase, writeLayout } from './wgsl/indexing.js';
import { mapInvocations, mapShaderSource, type MapShaderSpec } from './wgsl/map-shader.js';

/**
 * How a map shader reads one input, so an input larger than a binding can be windowed: 'strided' when
 * it reads exactly `in_k(offset_of(operandBase(k), i))` for output element i; `{ extent: [lo, hi] }`
 * when it reads anywhere from that offset + lo to that offset + hi (gather along an axis);
 * `{ reads, strides }` when the kernel computes the element range [min, max] read for a box of
 * outputs itself (null: none), no wider than a view with `strides` would span over that box (pad);
 * else the element range [min, max] (absolute, inclusive) it may read for any output.
 */
export type MapWindow =
  | 'strided'
  | { readonly extent: readonly [number, number] }
  | { readonly reads: (lo: readonly number[], len: readonly number[]) => [number, number] | null; readonly strides: readonly number[] }
  | readonly [number, number];

/** One map dispatch: the shader, the iteration shape, and each input's layout over it. */
export interface MapCall {
  /** Pipeline cache key: kernel name + everything the source depends on. */
  readonly key: string;
  readonly spec: MapShaderSpec;
  readonly shape: Shape;
  readonly inputs: readonly TensorView[];
  /** Each input's strides over `shape` (default: its own strides). */
  readonly strides?: readonly (readonly number[])[];
  /** Kernel-specific parameter words, written from extraBase(inputs.length). */
  readonly extra?: ArrayLike<number>;
  /** Write into this buffer instead of a new one. */
  readonly into?: GPUBuffer;
  /** How each input is read (see MapWindow); absent: the kernel is never split and a too-large operand is an error. */
  readonly windows?: readonly MapWindow[];
  /** Compute only this box of `shape` (first coordinate and length per dim; unpacked outputs, with `windows`). */
  readonly box?: { readonly lo: readonly number[]; readonly len: readonly number[] };
  readonly where: string;
}

/** The GPU buffer behind a view. */
export function bufferOf(view: TensorView): GPUBuffer {
  return view.storage.data as GPUBuffer;
}

/** `x` with some of its fields replaced (a kernel's input is a Tensor, whose fields object spread would not copy). */
export function viewWith(x: TensorView, changes: Partial<TensorView>): TensorView {
  return { storage: x.storage, shape: x.shape, strides: x.strides, offset: x.offset, dtype: x.dtype, ...changes };
}

/** A view of a kernel's own buffer (a temporary): row-major over `shape` unless `strides` are given. */
export function bufferView(buffer: GPUBuffer, dtype: DType, shape: Shape, strides: readonly number[] = contiguousStrides(shape), offset = 0): TensorView {
  return { storage: { data: buffer } as unknown as TensorView['storage'], shape, strides: [...strides], offset, dtype };
}

/** Dispatches a map shader and returns its output buffer (shape `call.shape`, dtype `call.spec.out`). */
export function runMap(ctx: GpuContext, call: MapCall): GPUBuffer {
  const n = call.shape.reduce((a, b) => a * b, 1);
  const outDtype = call.spec.out;
  const out = call.into ?? ctx.acquire(storageBytes(outDtype, n));
  if (n === 0) return out;
  const strides = call.inputs.map((v, k) => call.strides?.[k] ?? v.strides);
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(params, call.shape, call.inputs.map((v, k) => ({ offset: v.offset, strides: strides[k]! })), call.where);
  if (call.extra) {
    const base = extraBase(call.inputs.length);
    if (base + call.extra.length > PIECE_WORDS_START) throw new RangeError(`${call.where}: ${call.extra.length} parameter words overlap the binding-window words; this is a bug in @tessera/kernels-webgpu`);
    for (let i = 0; i < call.extra.length; i++) params[base + i] = call.extra[i]! >>> 0;
  }
  const pipeline = ctx.pipelines.get(call.key, call.inputs.length, () => mapShaderSource(call.spec));
  const buffers = call.inputs.map(bufferOf);
  const invocations = mapInvocations(outDtype, n);
  if (!call.box && out.size <= ctx.maxBindingBytes && buffers.every((b) => b.size <= ctx.maxBindingBytes)) {
    params[PIECE.count] = invocations;
    ctx.dispatch(pipeline, buffers, out, params, Math.ceil(invocations / WORKGROUP));
    return out;
  }
  if (!call.windows) {
    const big = [...buffers, out].findIndex((b) => b.size > ctx.maxBindingBytes);
    const what = big === buffers.length ? `its output [${call.shape.join(',')}] ${outDtype}` : `input ${big} (${call.inputs[big]!.dtype}, shape [${call.inputs[big]!.shape.join(',')}])`;
    throw new BindingLimitError(bindingLimitMessage(call.where, what, [...buffers, out][big]!.size, ctx));
  }
  const extents = call.windows.map((w): readonly [number, number] => (w === 'strided' ? [0, 0] : 'extent' in w ? w.extent : [0, 0]));
  // The element range input k reads over a box of outputs.
  const boxReads = (k: number, lo: readonly number[], len: readonly number[]): [number, number] => {
    const w = call.windows![k]!;
    const v = call.inputs[k]!;
    if (w !== 'strided' && 'reads' in w) return w.reads(lo, len) ?? [v.offset, v.offset];
    const [a, b] = boxSpan(v.offset, strides[k]!, lo, len);
    return [a + extents[k]![0], b + extents[k]![1]];
  };
  const fixed = call.inputs.map((v, k) => {
    const w = call.windows![k]!;
    if (w === 'strided' || 'extent' in w || 'reads' in w) return null;
    const binding = windowOf(ctx, buffers[k]!, v.dtype, w[0], w[1]);
    if (!binding) throw new BindingLimitError(bindingLimitMessage(call.where, `input ${k} (${v.dtype}, shape [${v.shape.join(',')}]) read anywhere in elements ${w[0]}..${w[1]}`, (w[1] - w[0] + 1) * 4, ctx));
    return binding;
  });
  const piece = (outBinding: Binding, inputSpans: ([number, number] | null)[], set: (p: Uint32Array) => void): boolean => {
    const bindings: Binding[] = [];
    for (let k = 0; k < buffers.length; k++) {
      const span = inputSpans[k];
      const b = fixed[k] ?? windowOf(ctx, buffers[k]!, call.inputs[k]!.dtype, span![0], span![1]);
      if (!b) return false;
      bindings.push(b);
    }
    const p = params.slice();
    call.inputs.forEach((v, k) => (p[operandBase(k)] = (v.offset - elementShift(bindings[k]!, v.dtype)) >>> 0));
    p[PIECE.outShift] = windowWord(outBinding);
    set(p);
    ctx.dispatch(pipeline, bindings, outBinding, p, Math.ceil(p[PIECE.count]! / WORKGROUP));
    return true;
  };
  if (call.box && isPacked(outDtype)) throw new RangeError(`${call.where}: a box of a packed ${outDtype} output; this is a bug in @tessera/kernels-webgpu`);
  if (!isPacked(outDtype)) {
    // Boxes: every operand's window over a box has the same size wherever the box lies.
    const outStrides = contiguousStrides(call.shape);
    const region = call.box ?? { lo: call.shape.map(() => 0), len: call.shape };
    const len = planBoxLengths(ctx, region.len, [
      { strides: outStrides, dtype: outDtype, whole: out.size <= ctx.maxBindingBytes },
      ...call.inputs.map((v, k) => ({
        strides: fixed[k] ? call.shape.map(() => 0) : readsStrides(call.windows![k]!) ?? strides[k]!,
        dtype: v.dtype,
        whole: buffers[k]!.size <= ctx.maxBindingBytes,
        extent: extents[k]![1] - extents[k]![0],
      })),
    ]);
    for (const tile of boxesOf(region.len, len)) {
      const box = { lo: tile.lo.map((c, d) => c + region.lo[d]!), len: tile.len };
      const [lo, hi] = boxSpan(0, outStrides, box.lo, box.len);
      const outBinding = windowOf(ctx, out, outDtype, lo, hi)!;
      const spans = call.inputs.map((_, k) => (fixed[k] ? null : boxReads(k, box.lo, box.len)));
      const ok = piece(outBinding, spans, (p) => {
        p[PIECE.box] = 1;
        box.lo.forEach((c, d) => (p[PIECE.lo + d] = c));
        box.len.forEach((c, d) => (p[PIECE.len + d] = c));
        p[PIECE.count] = box.len.reduce((a, b) => a * b, 1);
      });
      if (!ok) {
        const k = spans.findIndex((span, j) => span !== null && windowOf(ctx, buffers[j]!, call.inputs[j]!.dtype, span[0], span[1]) === null);
        const v = call.inputs[k]!;
        throw new BindingLimitError(bindingLimitMessage(call.where, `input ${k} ([${v.shape.join(',')}] ${v.dtype}) read ${extents[k]![1] - extents[k]![0] + 1} elements wide per output`, buffers[k]!.size, ctx));
      }
    }
    return out;
  }
  // Packed outputs: an invocation owns a word, so pieces are flat ranges of whole words.
  const epw = elementsPerWord(outDtype);
  const spansOf = (e0: number, e1: number) =>
    call.inputs.map((v, k): [number, number] | null => {
      if (fixed[k]) return null;
      const w = call.windows![k]!;
      if (w !== 'strided' && 'reads' in w) {
        const { lo, len } = boundingBox(call.shape, e0, e1);
        return boxReads(k, lo, len);
      }
      const [a, b] = rangeSpan(call.shape, strides[k]!, v.offset, e0, e1);
      return [a + extents[k]![0], b + extents[k]![1]];
    });
  const ranges = planRanges(n, epw, elementsPerBinding(ctx, outDtype), (e0, e1) => {
    if (!windowOf(ctx, out, outDtype, e0, e1 - 1)) return false;
    return spansOf(e0, e1).every((span, k) => span === null || windowOf(ctx, buffers[k]!, call.inputs[k]!.dtype, span[0], span[1]) !== null);
  });
  if (ranges) {
    for (const [e0, e1] of ranges) {
      piece(windowOf(ctx, out, outDtype, e0, e1 - 1)!, spansOf(e0, e1), (p) => {
        p[PIECE.start] = e0 / epw;
        p[PIECE.count] = Math.ceil(e1 / epw) - e0 / epw;
      });
    }
    return out;
  }
  if (call.into) throw new BindingLimitError(bindingLimitMessage(call.where, `its ${outDtype} output [${call.shape.join(',')}] updated in place`, out.size, ctx));
  // An input too scattered for flat ranges (a transposed one): compute 32-bit in boxes, then pack.
  ctx.release(out);
  const wide = widened(outDtype);
  const unpacked = runMap(ctx, { ...call, key: `${call.key}|out:${wide}`, spec: { ...call.spec, out: wide } });
  const packed = runMap(ctx, {
    key: `pack:${wide}:${outDtype}`,
    spec: { inputs: [wide], out: outDtype, value: `return ${convertExpr(`in0(offset_of(${operandBase(0)}u, i))`, wide, outDtype)};` },
    shape: [n],
    inputs: [bufferView(unpacked, wide, [n])],
    windows: ['strided'],
    where: call.where,
  });
  ctx.release(unpacked);
  return packed;
}

/** The strides a `{ reads, strides }` window plans with. */
function readsStrides(w: MapWindow): readonly number[] | null {
  return w !== 'strided' && 'reads' in w ? w.strides : null;
}

/** The smallest box of `shape` holding the flat range [e0, e1): fixed leading coordinates, a range in the first dim that varies, the rest whole. */
function boundingBox(shape: Shape, e0: number, e1: number): { lo: number[]; len: number[] } {
  const first = unravel(shape, e0);
  const last = unravel(shape, e1 - 1);
  const d = first.findIndex((c, i) => c !== last[i]);
  if (d < 0) return { lo: first, len: shape.map(() => 1) };
  return { lo: shape.map((_, i) => (i < d ? first[i]! : i === d ? first[d]! : 0)), len: shape.map((n, i) => (i < d ? 1 : i === d ? last[d]! - first[d]! + 1 : n)) };
}

function unravel(shape: Shape, e: number): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = e % shape[d]!;
    e = Math.floor(e / shape[d]!);
  }
  return out;
}

/** The u32 word holding an f32's bits (for float parameters). */
export function f32Bits(v: number): number {
  return new Uint32Array(Float32Array.of(v).buffer)[0]!;
}

/** Merges dims that are contiguous for every operand, so fewer divisions run per element. */
export function collapse(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j]![last] === s[d]! * size)) {
      outShape[last] = outShape[last]! * size;
      strides.forEach((s, j) => (outStrides[j]![last] = s[d]!));
      continue;
    }
    outShape.push(size);
    strides.forEach((s, j) => outStrides[j]!.push(s[d]!));
  }
  return { shape: outShape, strides: outStrides };
}

/** dtypes as a cache-key fragment. */
export function dtypeKey(dtypes: readonly DType[]): string {
  return dtypes.join(',');
}
