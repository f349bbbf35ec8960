/** The special tokens of the default tokenizer, in id order (ids 0..4). */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>'];
/** End of a turn; generation stops on it. */
export const END_OF_TURN = '<|end|>';
/**
 * A compact ChatML-like template: a role tag, a space, the content, an end-of-turn token. The space
 * (not a newline) before the content makes an answer's first word the same byte-level BPE token as
 * the word inside a sentence (" lion", " 18"), the form the base model learned in pretraining; after
 * a newline it would be a different, usually split, token ("l" "ion"). The generation prompt ends at
 * the tag, so the model writes that space-prefixed token itself.
 */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|> ' + message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";
