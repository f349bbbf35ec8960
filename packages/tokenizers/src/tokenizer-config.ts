/** The parts of `tokenizer_config.json` (and `special_tokens_map.json`) this package reads. */
export interface TokenizerConfig {
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  unk_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  chat_template?: string | Array<{ name: string; template: string }> | null;
  clean_up_tokenization_spaces?: boolean;
  padding_side?: 'left' | 'right';
  model_max_length?: number;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  [key: string]: unknown;
}

/** The text of a special-token entry, which may be a string or an AddedToken object. */
export function specialTokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}
