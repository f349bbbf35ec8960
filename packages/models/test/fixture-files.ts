// PyTorch's CPU kernels differ between processors (oneDNN picks AVX-512/AMX code on some, AVX2 on
// others), so a regenerated fixture matches the committed one byte for byte only on a machine like
// the one that wrote it. Elsewhere the tensors must still agree to float rounding: same names,
// dtypes and shapes, integers exact, floats within a tolerance far below any modelling error.
import { readFileSync } from 'node:fs';
import { readSafetensors, toTypedArray } from '@tessera/safetensors';
import { expect } from 'vitest';

const RTOL = 2e-2;
const ATOL = 1e-4;
// Parameters after the scripts' 3 AdamW steps (lr 1e-3): Adam's m/sqrt(v) turns the rounding of a
// near-zero gradient into a step of up to lr, so those may differ by up to 3 steps' worth.
const ADAMW_ATOL = 3e-3;

function floats(t: { dtype: string; data: Uint8Array }): Float64Array | null {
  if (t.dtype === 'BF16') {
    const u16 = toTypedArray(t as never) as unknown as Uint16Array;
    const f32 = new Float32Array(new Uint32Array(Array.from(u16, (h) => h << 16)).buffer);
    return Float64Array.from(f32);
  }
  if (t.dtype === 'F32' || t.dtype === 'F64') return Float64Array.from(toTypedArray(t as never) as unknown as ArrayLike<number>);
  return null;
}

/** Expects the regenerated fixture file `fresh` to be the committed `committed` (bytes, or tensors within rounding). */
export function expectSameFixture(fresh: string, committed: string, label: string): void {
  const a = readFileSync(fresh);
  const b = readFileSync(committed);
  if (a.equals(b)) return;
  expect(label.endsWith('.safetensors'), `${label}: differs and is not a safetensors file`).toBe(true);
  const ta = readSafetensors(a).tensors;
  const tb = readSafetensors(b).tensors;
  expect([...ta.keys()].sort(), label).toEqual([...tb.keys()].sort());
  for (const [name, x] of ta) {
    const y = tb.get(name)!;
    expect([x.dtype, x.shape], `${label}:${name}`).toEqual([y.dtype, y.shape]);
    const fx = floats(x);
    const fy = floats(y);
    if (!fx || !fy) {
      expect(Buffer.from(x.data).equals(Buffer.from(y.data)), `${label}:${name} (${x.dtype}) must match exactly`).toBe(true);
      continue;
    }
    const atol = name.startsWith('adamw.') ? ADAMW_ATOL : ATOL;
    for (let i = 0; i < fx.length; i++) {
      const ok = Math.abs(fx[i]! - fy[i]!) <= atol + RTOL * Math.abs(fy[i]!) || (Number.isNaN(fx[i]!) && Number.isNaN(fy[i]!));
      if (!ok) expect(fx[i], `${label}:${name}[${i}] (committed ${fy[i]}, tolerance ${atol} + ${RTOL}·|committed|)`).toBe(fy[i]);
    }
  }
}
