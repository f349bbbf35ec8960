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
  /** Modules trained and saved in full besides the adapters (e.g. a classifier head). */
  modulesToSave: string[];
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
    modulesToSave: [],
    taskType: 'CAUSAL_LM',
    baseModelNameOrPath: null,
    ...partial,
  };
  if (!Number.isInteger(cfg.r) || cfg.r <= 0) throw new RangeError(`LoraConfig: r must be a positive integer (got ${cfg.r})`);
  if (!(cfg.loraDropout >= 0 && cfg.loraDropout < 1)) throw new RangeError(`LoraConfig: loraDropout must be in [0, 1) (got ${cfg.loraDropout})`);
  if (!['none', 'all', 'lora_only'].includes(cfg.bias)) throw new RangeError(`LoraConfig: bias must be "none", "all" or "lora_only" (got ${JSON.stringify(cfg.bias)})`);
  return cfg;
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
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: cfg.initLoraWeights,
    layers_pattern: null,
    layers_to_transform: null,
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

/** Reads PEFT's adapter_config.json (unknown fields are ignored; a non-LoRA peft_type is an error). */
export function fromPeftJson(json: Record<string, unknown>): LoraConfig {
  if (json.peft_type !== undefined && json.peft_type !== 'LORA') {
    throw new Error(`adapter_config.json: peft_type is ${JSON.stringify(json.peft_type)}; only "LORA" adapters (LoRA, rsLoRA, DoRA) are supported`);
  }
  const tm = json.target_modules;
  const targetModules = Array.isArray(tm) ? (tm as string[]) : tm === 'all-linear' ? 'all-linear' : typeof tm === 'string' ? new RegExp(`^(?:${tm})$`) : undefined;
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
    modulesToSave: (json.modules_to_save as string[] | null) ?? [],
    taskType: (json.task_type as string) ?? 'CAUSAL_LM',
    baseModelNameOrPath: (json.base_model_name_or_path as string | null) ?? null,
  });
}

function num(v: unknown, field: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number') throw new TypeError(`adapter_config.json: ${field} must be a number (got ${JSON.stringify(v)})`);
  return v;
}
