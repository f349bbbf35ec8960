import { parse as parseYaml } from 'yaml';

/** Every knob of `tessera-train train`, as a config file or flags name it. */
export interface RunConfig {
  method: 'lora' | 'dora' | 'qlora' | 'full';
  r: number;
  alpha: number;
  dropout: number;
  targets: string[];
  lr: number;
  schedule: 'cosine' | 'linear' | 'constant';
  warmup: number;
  epochs: number;
  steps: number;
  batch: number;
  gradAccumulation: number;
  maxLength: number;
  packing: boolean;
  trainOnInputs: boolean;
  seed: number;
  evalEvery: number;
  saveEvery: number;
  /** Early stopping: stop after this many validations without a lower validation loss (0: off; needs evalEvery). */
  patience: number;
  /** Where to compute: the CPU, or a WebGPU device. */
  backend: 'cpu' | 'webgpu';
  maxGradNorm: number;
  weightDecay: number;
  onBadLine: 'stop' | 'skip';
}

export const RUN_CONFIG_DEFAULTS: RunConfig = {
  method: 'lora',
  r: 16,
  alpha: 32,
  dropout: 0,
  targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  lr: 2e-4,
  schedule: 'cosine',
  warmup: 10,
  epochs: 1,
  steps: 0,
  batch: 8,
  gradAccumulation: 1,
  maxLength: 512,
  packing: false,
  trainOnInputs: false,
  seed: 0,
  evalEvery: 0,
  saveEvery: 0,
  patience: 0,
  backend: 'cpu',
  maxGradNorm: 1,
  weightDecay: 0,
  onBadLine: 'stop',
};

type Rule = { kind: 'enum'; values: readonly string[] } | { kind: 'int'; min: number } | { kind: 'number'; min: number; max?: number } | { kind: 'bool' } | { kind: 'strings' };

// One rule per key: the schema that the errors quote.
const RULES: Record<keyof RunConfig, Rule> = {
  method: { kind: 'enum', values: ['lora', 'dora', 'qlora', 'full'] },
  r: { kind: 'int', min: 1 },
  alpha: { kind: 'number', min: 0 },
  dropout: { kind: 'number', min: 0, max: 1 },
  targets: { kind: 'strings' },
  lr: { kind: 'number', min: 0 },
  schedule: { kind: 'enum', values: ['cosine', 'linear', 'constant'] },
  warmup: { kind: 'int', min: 0 },
  epochs: { kind: 'number', min: 0 },
  steps: { kind: 'int', min: 0 },
  batch: { kind: 'int', min: 1 },
  gradAccumulation: { kind: 'int', min: 1 },
  maxLength: { kind: 'int', min: 1 },
  packing: { kind: 'bool' },
  trainOnInputs: { kind: 'bool' },
  seed: { kind: 'int', min: 0 },
  evalEvery: { kind: 'int', min: 0 },
  saveEvery: { kind: 'int', min: 0 },
  patience: { kind: 'int', min: 0 },
  backend: { kind: 'enum', values: ['cpu', 'webgpu'] },
  maxGradNorm: { kind: 'number', min: 0 },
  weightDecay: { kind: 'number', min: 0 },
  onBadLine: { kind: 'enum', values: ['stop', 'skip'] },
};

// Config files may use kebab-case or snake_case keys as well (grad-accumulation, max_length).
const camel = (k: string): string => k.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());

/** The command-line flag that sets a run config key: gradAccumulation -> --grad-accumulation. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function check(where: string, key: string, value: unknown, rule: Rule): unknown {
  const bad = (want: string): never => {
    throw new Error(`${where}: ${key} is ${JSON.stringify(value)}; expected ${want}`);
  };
  switch (rule.kind) {
    case 'enum':
      if (typeof value !== 'string' || !rule.values.includes(value)) bad(`one of ${rule.values.map((v) => `"${v}"`).join(', ')}`);
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min) bad(`an integer ≥ ${rule.min}`);
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || (rule.max !== undefined && value > rule.max)) bad(`a number ≥ ${rule.min}${rule.max === undefined ? '' : ` and ≤ ${rule.max}`}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') bad('true or false');
      return value;
    case 'strings':
      if (typeof value === 'string') return [value];
      if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) bad('a non-empty list of module names (e.g. [q_proj, v_proj])');
      return value;
  }
}

/** Validates an object against the schema: unknown keys and bad values are errors naming the key (as `name` words it: the command line names the flag) and what is allowed. */
export function validateRunConfig(raw: unknown, where = 'config', name: (key: string) => string = (k) => `"${k}"`): Partial<RunConfig> {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: expected a mapping of keys to values, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = camel(k);
    const rule = RULES[key as keyof RunConfig];
    if (!rule) throw new Error(`${where}: unknown key "${k}"; allowed keys: ${Object.keys(RULES).join(', ')}`);
    out[key] = check(where, name(k), v, rule);
  }
  return out as Partial<RunConfig>;
}

/** Parses a YAML or JSON config file's text (by extension) and validates it. */
export function parseRunConfig(text: string, file: string): Partial<RunConfig> {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${file}: cannot parse (${(err as Error).message.split('\n')[0]}); fix the syntax`);
  }
  return validateRunConfig(raw, file);
}
