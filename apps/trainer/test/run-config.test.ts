import { describe, expect, it } from 'vitest';
import { parseRunConfig, validateRunConfig } from '../src/config/run-config.js';

describe('run config validation', () => {
  it('accepts YAML with kebab/snake keys and returns camelCase', () => {
    expect(parseRunConfig('method: dora\nr: 8\nmax_length: 256\ngrad-accumulation: 2\ntargets: [q_proj, v_proj]\n', 'run.yaml')).toEqual({ method: 'dora', r: 8, maxLength: 256, gradAccumulation: 2, targets: ['q_proj', 'v_proj'] });
    expect(parseRunConfig('{"lr": 0.001, "packing": true}', 'run.json')).toEqual({ lr: 0.001, packing: true });
  });

  it('names the key and the allowed values', () => {
    expect(() => validateRunConfig({ method: 'lorax' }, 'run.yaml')).toThrow('run.yaml: "method" is "lorax"; expected one of "lora", "dora", "qlora", "full"');
    expect(() => validateRunConfig({ schedule: 'step' }, 'run.yaml')).toThrow('expected one of "cosine", "linear", "constant"');
    expect(() => validateRunConfig({ r: 0 }, 'run.yaml')).toThrow('run.yaml: "r" is 0; expected an integer ≥ 1');
    expect(() => validateRunConfig({ dropout: 2 }, 'run.yaml')).toThrow('"dropout" is 2; expected a number ≥ 0 and ≤ 1');
    expect(() => validateRunConfig({ learning_rate: 1 }, 'run.yaml')).toThrow('run.yaml: unknown key "learning_rate"; allowed keys: method, r,');
    expect(() => validateRunConfig([1], 'run.yaml')).toThrow('expected a mapping');
    expect(() => parseRunConfig('r: [1,', 'bad.yaml')).toThrow('bad.yaml: cannot parse');
  });
});
