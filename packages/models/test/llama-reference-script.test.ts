// The committed fixtures are exactly what scripts/reference/llama_reference.py writes: regenerate
// them into a scratch folder and compare (bytes, or tensors to rounding: fixture-files.ts). CI installs Debian's PyTorch (and fails without it);
// elsewhere this runs when it is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectSameFixture } from './fixture-files.js';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const FIXTURES = join(import.meta.dirname, 'fixtures');
const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'reference', 'llama_reference.py');

describe('llama_reference.py', () => {
  it.skipIf(!hasTorch && !process.env.CI)('reproduces the committed fixtures (bytes, or tensors within rounding on another CPU)', () => {
    const out = mkdtempSync(join(tmpdir(), 'tessera-llama-ref-'));
    try {
      execFileSync(PYTHON, [SCRIPT, '--out', out], { stdio: 'pipe' });
      for (const name of ['tiny-llama', 'tiny-qwen2', 'tiny-qwen3', 'tiny-mistral']) {
        const files = readdirSync(join(FIXTURES, name)).sort();
        expect(readdirSync(join(out, name)).sort()).toEqual(files);
        for (const f of files) expectSameFixture(join(out, name, f), join(FIXTURES, name, f), `${name}/${f}`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
