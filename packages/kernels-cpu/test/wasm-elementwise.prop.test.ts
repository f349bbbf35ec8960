// The WebAssembly SIMD elementwise path (src/wasm/wasm-elementwise.ts) held bit for bit to the plain
// table kernel, on operands large enough to take it: dense (with offsets), scalar on either side,
// row vectors broadcast over leading dims (odd row lengths included); other layouts fall back.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { BINARY_FUNCTIONS, BINARY_KERNELS, BINARY_KERNELS_TS, WASM_BINARY_OPS, binaryKernel } from '../src/kernels/binary.js';
import { ELEMENTWISE_WASM_BASE64 } from '../src/wasm/elementwise-bytes.js';
import { ELEMENTWISE_FMA_WASM_BASE64 } from '../src/wasm/elementwise-fma-bytes.js';
import { ELEMENTWISE_SHARED_WASM_BASE64 } from '../src/wasm/elementwise-shared-bytes.js';
import { ELEMENTWISE_SHARED_FMA_WASM_BASE64 } from '../src/wasm/elementwise-shared-fma-bytes.js';
import { REGIONS, WASM_MIN_ELEMENTS, elementwiseEngine, wasmBinaryF32 } from '../src/wasm/wasm-elementwise.js';
import { decodeBase64, relaxedSimdAvailable } from '../src/wasm/gemm-module.js';
import { assembleElementwise } from '../wasm/assemble.js';
import { CONST_BYTES, ELEMENTWISE_PAGES } from '../wasm/elementwise-wat.js';
import { expectIdentical } from './identical-arrays.js';
import { layoutArb, makeView, numRuns, seedArb, type Layout } from './views.js';

/** (rows, cols) with rows * cols around the WebAssembly threshold and beyond one 16384-float chunk. */
const matrixArb = fc.tuple(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 60, max: 420 }));
/** Which operand pattern: both full, b scalar, a scalar, b a row vector, a a row vector. */
const patternArb = fc.constantFrom('full', 'scalarB', 'scalarA', 'rowB', 'rowA', 'columnB');

describe('WebAssembly SIMD f32 add/sub/mul/div', () => {
  test('the committed module bytes (both builds, private and shared memory) are the assembled wasm/elementwise-wat.ts, and they instantiate here', async () => {
    expect(Buffer.from(await assembleElementwise()).toString('base64')).toBe(ELEMENTWISE_WASM_BASE64);
    expect(Buffer.from(await assembleElementwise('fma')).toString('base64')).toBe(ELEMENTWISE_FMA_WASM_BASE64);
    expect(Buffer.from(await assembleElementwise('simd128', 'shared')).toString('base64')).toBe(ELEMENTWISE_SHARED_WASM_BASE64);
    expect(Buffer.from(await assembleElementwise('fma', 'shared')).toString('base64')).toBe(ELEMENTWISE_SHARED_FMA_WASM_BASE64);
    expect(elementwiseEngine()).not.toBeNull();
    // Every build validates here (the fma ones where relaxed SIMD is on: Node 20 behind the flag the gemm module switches on).
    const builds = [ELEMENTWISE_WASM_BASE64, ELEMENTWISE_SHARED_WASM_BASE64, ...(relaxedSimdAvailable() ? [ELEMENTWISE_FMA_WASM_BASE64, ELEMENTWISE_SHARED_FMA_WASM_BASE64] : [])];
    for (const b64 of builds) expect(WebAssembly.validate(decodeBase64(b64))).toBe(true);
    // The constant table sits after the six scratch regions, inside the memory the engine creates.
    expect(CONST_BYTES).toBe(6 * REGIONS.B * 4);
    expect(ELEMENTWISE_PAGES).toBe(Math.ceil((7 * REGIONS.B * 4) / 65536));
  });

  for (const [op, name] of WASM_BINARY_OPS) {
    const plain = binaryKernel(op, BINARY_FUNCTIONS.get(op)!);
    test(`${name} equals the plain kernel bit for bit (dense, scalar, row and column broadcasts, strided fallbacks)`, () => {
      fc.assert(
        fc.property(matrixArb, patternArb, fc.tuple(layoutArb, seedArb), fc.tuple(layoutArb, seedArb), ([r, c], pattern, [la, sa], [lb, sb]) => {
          const shapeA = pattern === 'scalarA' ? [] : pattern === 'rowA' ? [c] : [r, c];
          const shapeB = pattern === 'scalarB' ? [] : pattern === 'rowB' ? [c] : pattern === 'columnB' ? [r, 1] : [r, c];
          const a = makeView(shapeA, la as Layout, 'f32', sa);
          const b = makeView(shapeB, lb as Layout, 'f32', sb, name === 'div' ? 'positive' : 'real');
          const out = { shape: [r, c], dtype: 'f32' as const };
          const got = BINARY_KERNELS.get(op)!([a, b], undefined, out);
          const what = `${name} ${pattern} ${la}[${shapeA}] ${lb}[${shapeB}]`;
          expectIdentical(got, plain([a, b], undefined, out), what, 'the plain kernel');
          expectIdentical(BINARY_KERNELS_TS.get(op)!([a, b], undefined, out), got, `${what} (TypeScript kernels)`, 'the plain kernel');
          // The dense/offset layouts of these patterns take the module (rows of >= 64 for a row vector).
          const dense = (l: string, s: number[]) => s.length === 0 || l === 'dense' || l === 'offset';
          const takes = r * c >= WASM_MIN_ELEMENTS && dense(la, shapeA) && dense(lb, shapeB) &&
            (pattern === 'full' || pattern === 'scalarA' || pattern === 'scalarB' || (pattern === 'rowB' && c >= 64));
          if (takes) expect(wasmBinaryF32(name, a, b, out.shape), what).not.toBeNull();
        }),
        { numRuns: numRuns() },
      );
    });
  }

  test('NaN, infinities, signed zeros and subnormals match the plain kernel', () => {
    const edges = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, 3.4e38, -3.4e38, 1, -1, 0.5, 1e-38, 2, 3, 7];
    const n = 4096;
    const a = T.tensor(Array.from({ length: n }, (_, i) => edges[i % 16]!), { dtype: 'f32' });
    const b = T.tensor(Array.from({ length: n }, (_, i) => edges[(i * 7 + (i >> 4)) % 16]!), { dtype: 'f32' });
    for (const [op, name] of WASM_BINARY_OPS) {
      const plain = binaryKernel(op, BINARY_FUNCTIONS.get(op)!);
      for (const s of edges) {
        const st = T.tensor(s, { dtype: 'f32' });
        for (const [x, y] of [[a, b], [a, st], [st, b]] as const) {
          const out = { shape: [n], dtype: 'f32' as const };
          expect(wasmBinaryF32(name, x, y, out.shape)).not.toBeNull();
          expectIdentical(BINARY_KERNELS.get(op)!([x, y], undefined, out), plain([x, y], undefined, out), `${name} edges`, 'the plain kernel');
        }
      }
    }
  });
});
