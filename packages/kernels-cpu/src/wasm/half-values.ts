// The f32 value of every f16 / bf16 word, so packing a half-precision operand into the gemm's f32
// panels is one table load per element.
import { bf16ToF32, f16ToF32 } from '@tessera/tensor';

/** Element kinds the gemm packs: f32 as is, bf16 and f16 widened while packing. */
export type GemmElement = 'f32' | 'bf16' | 'f16';

/** The gemm module's code for an element kind (its `kind` argument: 0 f32, 1 bf16, 2 f16). */
export const ELEMENT_CODE: Readonly<Record<GemmElement, number>> = { f32: 0, bf16: 1, f16: 2 };

const tables: Partial<Record<'bf16' | 'f16', Float32Array>> = {};

/** A 65536-entry table from a 16-bit word to its value (256 KiB, built on first use). */
export function halfValues(kind: 'bf16' | 'f16'): Float32Array {
  let table = tables[kind];
  if (!table) {
    const widen = kind === 'bf16' ? bf16ToF32 : f16ToF32;
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = widen(h);
    tables[kind] = table;
  }
  return table;
}
