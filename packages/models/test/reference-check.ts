// Holds a loaded model to a fixture of scripts/reference/*.py: logits, loss, every gradient, and the
// parameters after three AdamW steps, on any backend (values are read back with await data()).
// Shared by the reference suites (reference-suites.ts) that the CPU and WebGPU test files run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { backward } from '@tessera/autograd';
import type { Module } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import { readSafetensors } from '@tessera/safetensors';
import { tensor, tidy, type Tensor } from '@tessera/tensor';

export const FIXTURES = join(import.meta.dirname, 'fixtures');
// Elementwise |a - e| <= ATOL_FRACTION * max|e| + RTOL * |e|.
const RTOL = 1e-4;
const ATOL_FRACTION = 1e-5;
// Gradients of this size are rounding noise for these fixtures (real ones are >= 1e-4).
const NOISE = 1e-6;

/** A reference fixture's tensors by name. */
export interface Reference {
  shape(name: string): readonly number[];
  f32(name: string): Float32Array;
  i32(name: string): Int32Array;
  /** An integer tensor of the fixture on `device` (default the current backend). */
  int(name: string, device?: string): Tensor;
  /** A (rows, cols) integer tensor as nested arrays. */
  rows(name: string): number[][];
}

/** Reads fixtures/<name>/reference.safetensors (format version 1). */
export function readReference(name: string): Reference {
  const bytes = readFileSync(join(FIXTURES, name, 'reference.safetensors'));
  const { tensors, metadata } = readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  expect(metadata.format_version).toBe('1');
  const get = (n: string) => {
    const t = tensors.get(n);
    if (!t) throw new Error(`${name}/reference.safetensors has no "${n}"`);
    return t;
  };
  const f32 = (n: string) => new Float32Array(get(n).data.slice().buffer);
  const i32 = (n: string) => new Int32Array(get(n).data.slice().buffer);
  const rows = (n: string): number[][] => {
    const [r, c] = get(n).shape as [number, number];
    const v = i32(n);
    return Array.from({ length: r }, (_, i) => Array.from(v.subarray(i * c, (i + 1) * c)));
  };
  return { shape: (n) => get(n).shape, f32, i32, rows, int: (n, device) => tensor(i32(n), { shape: [...get(n).shape], dtype: 'i32', device }) };
}

/** Errors seen by `compare`: absolute, and relative to the tensor's largest element. */
export interface ErrorStats {
  maxAbs: number;
  maxScaled: number;
}

/** Compares elementwise (only where `keep` is true); fails past tolerance; returns the errors. */
export function compare(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, keep?: (i: number) => boolean): ErrorStats {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) if (!keep || keep(i)) scale = Math.max(scale, Math.abs(expected[i]!));
  let maxAbs = 0;
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (keep && !keep(i)) continue;
    const d = Math.abs(actual[i]! - expected[i]!);
    maxAbs = Math.max(maxAbs, d);
    if (!(d <= ATOL_FRACTION * scale + RTOL * Math.abs(expected[i]!)) && bad.length < 3) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  expect(bad, `${what}: beyond tolerance (scale ${scale})`).toEqual([]);
  return { maxAbs, maxScaled: scale > 0 ? maxAbs / scale : maxAbs };
}

/** Formats errors for the printed report. */
export function fmt(s: ErrorStats): string {
  return `max abs ${s.maxAbs.toExponential(2)}, max/scale ${s.maxScaled.toExponential(2)}`;
}

type Forward = (model: Module) => { logits: Tensor; loss?: Tensor };

/** Gradients of every parameter against grad.<name> (freed afterwards); returns the worst errors. */
export async function checkGradients(model: Module, ref: Reference, run: Forward): Promise<{ logits: Tensor; loss: Tensor; worst: ErrorStats; count: number }> {
  const { logits, loss } = tidy(() => {
    const out = run(model);
    backward(out.loss!);
    return out;
  });
  let worst: ErrorStats = { maxAbs: 0, maxScaled: 0 };
  let count = 0;
  for (const [name, p] of model.namedParameters()) {
    const expected = ref.f32(`grad.${name}`);
    count++;
    // BERT's key.bias has an exact gradient of 0 (softmax ignores q·b_k, the same for every key):
    // both sides are rounding noise (~1e-9), held to an absolute bound instead.
    if (expected.every((x) => Math.abs(x) < NOISE)) {
      const actual = await p.grad!.data();
      for (let i = 0; i < actual.length; i++) expect(Math.abs(actual[i]!), `grad of ${name}[${i}] (exactly 0 in exact arithmetic)`).toBeLessThan(NOISE);
    } else {
      const s = compare(`grad of ${name}`, await p.grad!.data(), expected);
      if (s.maxScaled > worst.maxScaled) worst = s;
    }
    p.grad!.dispose();
    p.grad = null;
  }
  return { logits, loss: loss!, worst, count };
}

/**
 * Three AdamW steps (lr 1e-3, weight decay 0.01, HF no-decay rule) against adamw.<name>; returns
 * the worst errors. `noisyBound` bounds elements whose gradient is noise-level (see below).
 */
export async function checkAdamW(model: Module, ref: Reference, run: Forward, noisyBound = 2 * 3 * 1e-3 + 1e-6): Promise<{ losses: ErrorStats; params: ErrorStats; noisy: number; worstNoisy: number }> {
  const opt = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 0.01 });
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    const loss = tidy(() => {
      const l = run(model).loss!;
      backward(l);
      return l;
    });
    losses.push((await loss.data())[0]!);
    loss.dispose();
    opt.step();
  }
  const lossStats = compare('adamw losses', losses, ref.f32('adamw_losses'));
  // Elements whose gradient is rounding noise next to the tensor's move by about lr per step in a
  // direction the noise picks (AdamW divides by the gradient's own RMS). BERT's key bias is the
  // case: softmax is invariant to q·b_k, so its exact gradient is 0; those are held only to the
  // bound two runs can differ by, 2 × 3 steps × lr (the default noisyBound). In the Llama family,
  // k_proj.bias along slow RoPE frequencies is nearly invariant (~1e-6): held to a tenth of a step.
  let worst: ErrorStats = { maxAbs: 0, maxScaled: 0 };
  let noisy = 0;
  let worstNoisy = 0;
  for (const [name, p] of model.namedParameters()) {
    const g = ref.f32(`grad.${name}`);
    const gScale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const conditioned = (i: number): boolean => gScale >= NOISE && Math.abs(g[i]!) >= 1e-3 * gScale;
    const actual = await p.data();
    const expected = ref.f32(`adamw.${name}`);
    const s = compare(`${name} after 3 AdamW steps`, actual, expected, conditioned);
    if (s.maxScaled > worst.maxScaled) worst = s;
    for (let i = 0; i < g.length; i++) {
      if (conditioned(i)) continue;
      noisy++;
      const d = Math.abs(actual[i]! - expected[i]!);
      worstNoisy = Math.max(worstNoisy, d);
      expect(d, `${name}[${i}] after AdamW (gradient ${g[i]} of scale ${gScale})`).toBeLessThanOrEqual(noisyBound);
    }
  }
  opt.zeroGrad();
  // The moments would otherwise live until the GC's safety net frees them, in some later test.
  opt.dispose();
  return { losses: lossStats, params: worst, noisy, worstNoisy };
}
