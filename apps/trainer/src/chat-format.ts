/** The special tokens of the default tokenizer, in id order (ids 0..4). */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>'];
/** End of a turn; generation stops on it. */
export const END_OF_TURN = '<|end|>';
/** A compact ChatML-like template: one role tag, the content, an end-of-turn token. */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
