/** Which bias terms train alongside the adapters (PEFT's `bias`). */
export type BiasMode = 'none' | 'all' | 'lora_only';

/** LoRA settings, with PEFT's meaning and defaults; `toPeftJson`/`fromPeftJson` map PEFT's field names. */
export interface LoraConfig {
  /** Rank (default 8). */
  r: number;
  /** Scaling numerator (default 8): scaling = alpha / r, or alpha / √r with rsLoRA. */
  loraAlpha: number;
  /** Dropout on the adapter branch's input (default 0). */
  loraDropout: number;
  /** Module names to adapt: a list (a module matches when its path equals or ends with `.name`), a regex (full match), or `all-linear` (every Linear but the output head). */
  targetModules: string[] | RegExp | 'all-linear';
  bias: BiasMode;
  useRslora: boolean;
  useDora: boolean;
  /** A kaiming-uniform and B zero (true, default), or A gaussian N(0, 1/r) ('gaussian'), or both zero-effect random off (false: B random too — not recommended). */
  initLoraWeights: boolean | 'gaussian';
  /** Per-module rank overrides by name pattern (regex keys as PEFT). */
  rankPattern: Record<string, number>;
  /** Per-module alpha overrides by name pattern. */
  alphaPattern: Record<string, number>;
  /** Only layers with these indices (the number after a `layers`-like segment) are adapted; null: all (PEFT's layers_to_transform). */
  layersToTransform: number[] | null;
  /** The names of the layer lists `layersToTransform` counts in (e.g. `layers`, `h`); null: any segment followed by a number (PEFT's layers_pattern). */
  layersPattern: string[] | null;
  /** Modules never adapted even when targeted: names (path equals or ends with `.name`) or a regex (full match) (PEFT's exclude_modules). */
  excludeModules: string[] | RegExp | null;
  /** Modules trained and saved in full besides the adapters (e.g. a classifier head). */
  modulesToSave: string[];
  /**
   * On a model whose output head is tied to its token embedding, a token embedding in modulesToSave
   * stays tied: the head reads the trained table (PEFT's ensure_weight_tying). Default false, as in
   * PEFT: the head keeps the original table.
   */
  ensureWeightTying: boolean;
  /** PEFT's task type, written to adapter_config.json. */
  taskType: string;
  /** Recorded in adapter_config.json for the loader. */
  baseModelNameOrPath: string | null;
}

/** PEFT's defaults. */
export function loraConfig(partial: Partial<LoraConfig> = {}): LoraConfig {
  const cfg: LoraConfig = {
    r: 8,
    loraAlpha: 8,
    loraDropout: 0,
    targetModules: ['q_proj', 'v_proj'],
    bias: 'none',
    useRslora: false,
    useDora: false,
    initLoraWeights: true,
    rankPattern: {},
    alphaPattern: {},
    layersToTransform: null,
    layersPattern: null,
    excludeModules: null,
    modulesToSave: [],
    ensureWeightTying: false,
    taskType: 'CAUSAL_LM',
    baseModelNameOrPath: null,
    ...partial,
  };
  if (!Number.isInteger(cfg.r) || cfg.r <= 0) throw new RangeError(`LoraConfig: r must be a positive integer (got ${cfg.r})`);
  if (!(cfg.loraDropout >= 0 && cfg.loraDropout < 1)) throw new RangeError(`LoraConfig: loraDropout must be in [0, 1) (got ${cfg.loraDropout})`);
  if (!['none', 'all', 'lora_only'].includes(cfg.bias)) throw new RangeError(`LoraConfig: bias must be "none", "all" or "lora_only" (got ${JSON.stringify(cfg.bias)})`);
  if (cfg.layersToTransform && !cfg.layersToTransform.every((i) => Number.isInteger(i) && i >= 0)) {
    throw new RangeError(`LoraConfig: layersToTransform must hold layer indices (non-negative integers) (got ${JSON.stringify(cfg.layersToTransform)})`);
  }
  if (cfg.targetModules instanceof RegExp) noFlags(cfg.targetModules, 'targetModules');
  if (cfg.excludeModules instanceof RegExp) noFlags(cfg.excludeModules, 'excludeModules');
  return cfg;
}

/** adapter_config.json stores a regex as a Python pattern string, which has no flags. */
function noFlags(re: RegExp, field: string): void {
  if (re.flags.replace('g', '') !== '') throw new RangeError(`LoraConfig: ${field} /${re.source}/${re.flags} has flags, which adapter_config.json cannot store; write them into the pattern (e.g. [Qq]_proj)`);
}

/** The first pattern key matching a module path, PEFT's rule: the key as a regex matched at the end of the path after a dot or at the start. */
function patternFor(patterns: Record<string, number>, path: string): number | undefined {
  for (const [key, value] of Object.entries(patterns)) {
    if (new RegExp(`(^|\\.)${key}$`).test(path)) return value;
  }
  return undefined;
}

/** Rank and alpha for one module path after rank/alpha patterns. */
export function rankAndAlpha(cfg: LoraConfig, path: string): { r: number; alpha: number } {
  return { r: patternFor(cfg.rankPattern, path) ?? cfg.r, alpha: patternFor(cfg.alphaPattern, path) ?? cfg.loraAlpha };
}

/** The adapter output scale: alpha / r, or alpha / √r with rsLoRA. */
export function loraScaling(r: number, alpha: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** adapter_config.json as PEFT writes it. */
export function toPeftJson(cfg: LoraConfig): Record<string, unknown> {
  return {
    alpha_pattern: cfg.alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: cfg.baseModelNameOrPath,
    bias: cfg.bias,
    ensure_weight_tying: cfg.ensureWeightTying,
    exclude_modules: cfg.excludeModules instanceof RegExp ? cfg.excludeModules.source : cfg.excludeModules && [...cfg.excludeModules].sort(),
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: cfg.initLoraWeights,
    layers_pattern: cfg.layersPattern,
    layers_to_transform: cfg.layersToTransform,
    lora_alpha: cfg.loraAlpha,
    lora_dropout: cfg.loraDropout,
    modules_to_save: cfg.modulesToSave.length ? cfg.modulesToSave : null,
    peft_type: 'LORA',
    r: cfg.r,
    rank_pattern: cfg.rankPattern,
    revision: null,
    target_modules:
      cfg.targetModules instanceof RegExp ? cfg.targetModules.source : cfg.targetModules === 'all-linear' ? 'all-linear' : [...cfg.targetModules].sort(),
    task_type: cfg.taskType,
    use_dora: cfg.useDora,
    use_rslora: cfg.useRslora,
  };
}

/**
 * Fields of PEFT's LoraConfig that change which layers are adapted or how, which Tessera does not
 * implement: a non-default value is refused rather than silently loading a different adapter.
 */
const UNSUPPORTED: [field: string, isDefault: (v: unknown) => boolean, what: string][] = [
  ['lora_bias', (v) => v === false, 'a trainable bias in lora_B'],
  ['init_lora_weights', (v) => v === true || v === false || v === 'gaussian', 'initialisations that change the base weights (PiSSA, OLoRA, LoftQ, EVA, CorDA)'],
  ['layer_replication', (v) => v === null, 'layer replication'],
  ['target_parameters', (v) => v === null || (Array.isArray(v) && v.length === 0), 'adapters on bare parameters'],
  ['trainable_token_indices', (v) => v === null, 'trainable token rows'],
  ['use_qalora', (v) => v === false, 'QALoRA'],
  ['alora_invocation_tokens', (v) => v === null, 'activated LoRA'],
];

/** Reads PEFT's adapter_config.json (fields that change no layer are ignored; a non-LoRA peft_type or an unsupported field value is an error). */
export function fromPeftJson(json: Record<string, unknown>): LoraConfig {
  if (json.peft_type !== undefined && json.peft_type !== 'LORA') {
    throw new Error(`adapter_config.json: peft_type is ${JSON.stringify(json.peft_type)}; only "LORA" adapters (LoRA, rsLoRA, DoRA) are supported`);
  }
  for (const [field, isDefault, what] of UNSUPPORTED) {
    if (json[field] !== undefined && !isDefault(json[field])) {
      throw new Error(`adapter_config.json: ${field} is ${JSON.stringify(json[field])}; Tessera does not implement ${what}, so it cannot load this adapter as PEFT would`);
    }
  }
  const tm = json.target_modules;
  const targetModules = Array.isArray(tm) ? (tm as string[]) : tm === 'all-linear' ? 'all-linear' : typeof tm === 'string' ? new RegExp(tm) : undefined;
  if (!targetModules) throw new Error(`adapter_config.json: target_modules must be a list of names or a regex string (got ${JSON.stringify(tm)})`);
  return loraConfig({
    r: num(json.r, 'r', 8),
    loraAlpha: num(json.lora_alpha, 'lora_alpha', 8),
    loraDropout: num(json.lora_dropout, 'lora_dropout', 0),
    targetModules,
    bias: (json.bias as LoraConfig['bias']) ?? 'none',
    useRslora: Boolean(json.use_rslora ?? false),
    useDora: Boolean(json.use_dora ?? false),
    initLoraWeights: (json.init_lora_weights as boolean | 'gaussian') ?? true,
    rankPattern: (json.rank_pattern as Record<string, number>) ?? {},
    alphaPattern: (json.alpha_pattern as Record<string, number>) ?? {},
    layersToTransform: layerIndices(json.layers_to_transform),
    layersPattern: typeof json.layers_pattern === 'string' ? [json.layers_pattern] : Array.isArray(json.layers_pattern) && json.layers_pattern.length ? (json.layers_pattern as string[]) : null,
    excludeModules: Array.isArray(json.exclude_modules) ? (json.exclude_modules as string[]) : typeof json.exclude_modules === 'string' ? new RegExp(json.exclude_modules) : null,
    modulesToSave: (json.modules_to_save as string[] | null) ?? [],
    ensureWeightTying: Boolean(json.ensure_weight_tying ?? false),
    taskType: (json.task_type as string) ?? 'CAUSAL_LM',
    baseModelNameOrPath: (json.base_model_name_or_path as string | null) ?? null,
  });
}

/** PEFT's layers_to_transform: an index, a list, or null/[] for every layer. */
function layerIndices(v: unknown): number[] | null {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return null;
  const list = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list) || !list.every((i) => typeof i === 'number')) throw new TypeError(`adapter_config.json: layers_to_transform must be a layer index or a list of them (got ${JSON.stringify(v)})`);
  return list as number[];
}

/** The adapter_config.json fields that decide an adapter's layers, shapes, outputs or saved tensors. */
const DEFINING: [field: string, get: (c: LoraConfig) => unknown][] = [
  ['r', (c) => c.r],
  ['lora_alpha', (c) => c.loraAlpha],
  ['use_rslora', (c) => c.useRslora],
  ['use_dora', (c) => c.useDora],
  ['target_modules', (c) => (c.targetModules instanceof RegExp ? `/${c.targetModules.source}/` : c.targetModules === 'all-linear' ? c.targetModules : [...c.targetModules].sort())],
  ['exclude_modules', (c) => (c.excludeModules instanceof RegExp ? `/${c.excludeModules.source}/` : c.excludeModules && [...c.excludeModules].sort())],
  ['layers_to_transform', (c) => c.layersToTransform && [...c.layersToTransform].sort((a, b) => a - b)],
  ['layers_pattern', (c) => c.layersPattern],
  ['rank_pattern', (c) => Object.entries(c.rankPattern).sort()],
  ['alpha_pattern', (c) => Object.entries(c.alphaPattern).sort()],
  ['bias', (c) => c.bias],
  ['modules_to_save', (c) => [...c.modulesToSave].sort()],
  ['ensure_weight_tying', (c) => c.ensureWeightTying],
];

/** The first field (PEFT's name) whose value differs between two configs, with both values; null when they define the same adapter. */
export function configDifference(a: LoraConfig, b: LoraConfig): { field: string; a: string; b: string } | null {
  for (const [field, get] of DEFINING) {
    const [va, vb] = [JSON.stringify(get(a)), JSON.stringify(get(b))];
    if (va !== vb) return { field, a: va, b: vb };
  }
  return null;
}

function num(v: unknown, field: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number') throw new TypeError(`adapter_config.json: ${field} must be a number (got ${JSON.stringify(v)})`);
  return v;
}
