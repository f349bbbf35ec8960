// NF4 quantisation against bitsandbytes' algorithm: scripts/reference/nf4_reference.py transcribes
// quantize_4bit(nf4, blocksize 64, compress_statistics=True) and dequantize_4bit into torch f32 from
// bitsandbytes' CUDA source, and wrote fixtures/nf4-bitsandbytes/reference.safetensors. Every code,
// absmax code, second-level scale, offset and dequantised value must be equal bit for bit.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nf4Dequantize, registerBackend, tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { readSafetensors, toTypedArray, type Safetensors } from '@tessera/safetensors';
import { dequantizeNf4, dynamicMap, quantizeNf4 } from '../src/index.js';

const fixture = new URL('./fixtures/nf4-bitsandbytes/reference.safetensors', import.meta.url).pathname;
const script = new URL('../scripts/reference/nf4_reference.py', import.meta.url).pathname;

let ref: Safetensors;
beforeAll(async () => {
  registerBackend(createCpuBackend());
  ref = readSafetensors(await readFile(fixture));
});

function get(name: string): { data: Float32Array | Uint8Array; shape: number[] } {
  const t = ref.tensors.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return { data: toTypedArray(t) as Float32Array | Uint8Array, shape: [...t.shape] };
}

/** Equal bit for bit (so -0 differs from 0 and NaN matches NaN); reports the first difference. */
function expectBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const a = new Float32Array(Array.from(got));
  const b = new Float32Array(Array.from(want));
  const ua = new Uint32Array(a.buffer);
  const ub = new Uint32Array(b.buffer);
  let diff = 0;
  let first = -1;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) (diff++, first < 0 && (first = i));
  if (diff) expect.fail(`${what}: ${diff} of ${ua.length} differ; first at ${first}: Tessera ${a[first]}, bitsandbytes ${b[first]}`);
}

describe('NF4 against the bitsandbytes reference', () => {
  it('the fixture is format version 1', () => {
    expect(ref.metadata.format_version).toBe('1');
  });

  for (const name of ['normal', 'odd', 'mixed']) {
    it(`${name}: codes, absmax codes, second-level scales, offset and dequantised weights equal bitsandbytes'`, () => {
      const w = get(`${name}.weight`);
      const q = quantizeNf4(w.data, w.shape);
      expectBits(q.packed, get(`${name}.packed`).data, `${name} packed codes`);
      expectBits(q.scalesQ, get(`${name}.absmax_q`).data, `${name} absmax codes`);
      expectBits(q.scales2, get(`${name}.absmax2`).data, `${name} second-level absmax`);
      expectBits([q.offset], get(`${name}.offset`).data, `${name} offset`);
      const want = get(`${name}.dequantized`).data;
      expectBits(dequantizeNf4(q), want, `${name} dequantised (host)`);
      const kernel = nf4Dequantize(tensor(q.packed, { dtype: 'u8' }), tensor(q.scalesQ, { dtype: 'u8' }), tensor(q.scales2), q);
      expectBits(kernel.dataSync(), want, `${name} dequantised (CPU nf4Dequantize kernel)`);
      kernel.dispose();
    });
  }
});

// CI installs Debian's PyTorch, so there this runs (and fails if torch is missing); elsewhere it runs when torch is present.
const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

describe('nf4_reference.py (PyTorch)', () => {
  it.skipIf(!hasTorch && !process.env.CI)('regenerates the committed fixture byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nf4-ref-'));
    try {
      const out = join(dir, 'reference.safetensors');
      const run = spawnSync(PYTHON, [script, '--out', out], { encoding: 'utf8' });
      // Torch may print harmless warnings (NumPy missing, ...) on stderr: the exit code and the file decide.
      expect(run.status, run.stderr).toBe(0);
      expect(existsSync(out), `${out} not written; stderr: ${run.stderr}`).toBe(true);
      expect((await readFile(out)).equals(await readFile(fixture))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
