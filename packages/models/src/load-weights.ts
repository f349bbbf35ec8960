// Turning safetensors entries into tensors of a chosen dtype on a chosen device. Generic: every
// model family of this package loads its state dict through here.
import { Tensor, cast, contiguousStrides, f32ToBf16, f32ToF16, getBackend, isFloat, type DType, type TypedArray } from '@tessera/tensor';

/** One tensor as a safetensors file stores it: dtype name (F32, BF16, ...), shape and little-endian bytes. */
export interface RawTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Where loaded tensors go: the dtype floats become (default: kept as stored) and the backend. */
export interface LoadTensorOptions {
  /** Floating-point tensors are converted to this dtype; integer tensors keep theirs. */
  dtype?: DType;
  device?: string;
}

const ELEMENT_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };

function aligned(data: Uint8Array, bytes: number): Uint8Array {
  // Typed-array views need aligned offsets; a header of odd length can leave the data unaligned.
  return data.byteOffset % bytes === 0 ? data : data.slice();
}

/** The elements of a raw tensor in a tensor dtype's storage format (64/16/8-bit ints widened to i32). */
function typedOf(name: string, raw: RawTensor): { values: TypedArray; dtype: DType } {
  const d = raw.data;
  const n = raw.shape.reduce((a, b) => a * b, 1);
  const size = ELEMENT_BYTES[raw.dtype];
  if (size === undefined) {
    throw new TypeError(`loadWeights: "${name}" has dtype ${raw.dtype}, which Tessera cannot load; supported: ${Object.keys(ELEMENT_BYTES).join(', ')}`);
  }
  if (d.byteLength !== n * size) {
    throw new RangeError(`loadWeights: "${name}" (${raw.dtype} [${raw.shape.join(',')}]) needs ${n * size} bytes but has ${d.byteLength}; the file is damaged`);
  }
  switch (raw.dtype) {
    case 'F64': {
      const a = aligned(d, 8);
      return { values: new Float64Array(a.buffer, a.byteOffset, n), dtype: 'f64' };
    }
    case 'F32': {
      const a = aligned(d, 4);
      return { values: new Float32Array(a.buffer, a.byteOffset, n), dtype: 'f32' };
    }
    case 'F16':
    case 'BF16': {
      const a = aligned(d, 2);
      return { values: new Uint16Array(a.buffer, a.byteOffset, n), dtype: raw.dtype === 'F16' ? 'f16' : 'bf16' };
    }
    case 'I32': {
      const a = aligned(d, 4);
      return { values: new Int32Array(a.buffer, a.byteOffset, n), dtype: 'i32' };
    }
    case 'U32': {
      const a = aligned(d, 4);
      return { values: new Uint32Array(a.buffer, a.byteOffset, n), dtype: 'u32' };
    }
    case 'U8':
      return { values: d, dtype: 'u8' };
    case 'BOOL':
      return { values: d, dtype: 'bool' };
    default: {
      // I64, I16, U16, I8: widened to i32 (token ids and masks; values beyond 32 bits are refused).
      const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v =
          raw.dtype === 'I64'
            ? Number(view.getBigInt64(i * 8, true))
            : raw.dtype === 'I16'
              ? view.getInt16(i * 2, true)
              : raw.dtype === 'U16'
                ? view.getUint16(i * 2, true)
                : view.getInt8(i);
        if (v > 2147483647 || v < -2147483648) throw new RangeError(`loadWeights: "${name}" holds ${v}, beyond i32; Tessera keeps integer tensors as i32`);
        out[i] = v;
      }
      return { values: out, dtype: 'i32' };
    }
  }
}

/**
 * A tensor from safetensors bytes: uploaded in the stored dtype (bf16/f16 move half the bytes of
 * f32) and converted on the device when `dtype` asks for another float type.
 */
export function tensorFromRaw(name: string, raw: RawTensor, opts: LoadTensorOptions = {}): Tensor {
  const { values, dtype } = typedOf(name, raw);
  // Uploaded as raw storage words: tensorFromTyped would read bf16/f16 words as numbers.
  const stored = new Tensor(getBackend(opts.device).upload(dtype, values), raw.shape, contiguousStrides(raw.shape), 0, dtype);
  const target = opts.dtype;
  if (!target || target === dtype || !isFloat(dtype)) return stored;
  if (!isFloat(target)) throw new TypeError(`loadWeights: cannot load float tensor "${name}" as ${target}; pick a float dtype (f32, bf16, f16, f64)`);
  const out = cast(stored, target);
  stored.dispose();
  return out;
}

/** Every entry of a state dict as tensors (see `tensorFromRaw`); tensors already given are converted to `dtype`. */
export function loadWeights(entries: Iterable<[string, RawTensor | Tensor]>, opts: LoadTensorOptions = {}): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const made: Tensor[] = [];
  try {
    for (const [name, value] of entries) {
      let t = value as Tensor;
      if (isRaw(value)) made.push((t = tensorFromRaw(name, value, opts)));
      else if (opts.dtype && isFloat(value.dtype) && value.dtype !== opts.dtype) made.push((t = cast(value, opts.dtype)));
      out.set(name, t);
    }
  } catch (err) {
    for (const t of made) t.dispose();
    throw err;
  }
  return out;
}

function isRaw(v: RawTensor | Tensor): v is RawTensor {
  return (v as RawTensor).data instanceof Uint8Array && typeof (v as RawTensor).dtype === 'string' && /^[A-Z]/.test((v as RawTensor).dtype);
}

const SAFETENSORS_DTYPE: Partial<Record<DType, string>> = { f64: 'F64', f32: 'F32', f16: 'F16', bf16: 'BF16', i32: 'I32', u32: 'U32', u8: 'U8', bool: 'BOOL' };

/** The safetensors name of a tensor dtype (f32 -> "F32", bf16 -> "BF16", ...). */
export function safetensorsDtypeOf(dtype: DType): string {
  const name = SAFETENSORS_DTYPE[dtype];
  if (!name) throw new TypeError(`safetensors: dtype ${dtype} has no safetensors name`);
  return name;
}

/** A tensor's values as safetensors bytes, in its own dtype or the float dtype asked for (rounded to nearest). */
export async function rawFromTensor(t: Tensor, dtype: DType = t.dtype): Promise<RawTensor> {
  const name = safetensorsDtypeOf(dtype);
  if (isFloat(dtype) !== isFloat(t.dtype)) throw new TypeError(`rawFromTensor: cannot store a ${t.dtype} tensor as ${dtype}; float and integer dtypes do not convert here`);
  const values = await t.data(); // f16/bf16 arrive widened to f32
  let typed: TypedArray;
  if (dtype === 'bf16' || dtype === 'f16') {
    const words = new Uint16Array(values.length);
    const to = dtype === 'bf16' ? f32ToBf16 : f32ToF16;
    for (let i = 0; i < values.length; i++) words[i] = to(values[i]!);
    typed = words;
  } else if (dtype === 'f32') typed = values instanceof Float32Array ? values : Float32Array.from(values);
  else if (dtype === 'f64') typed = values instanceof Float64Array ? values : Float64Array.from(values);
  else typed = values;
  return { dtype: name, shape: [...t.shape], data: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) };
}
