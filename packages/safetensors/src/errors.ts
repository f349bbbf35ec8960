/**
 * The one error class this package throws for bad input: malformed files, bad headers, bad index
 * files, tensors that do not match their dtype and shape. Catch it to tell "this file is broken"
 * apart from I/O failures (which pass through unchanged) and from bugs.
 */
export class SafetensorsError extends Error {
  /** The error's name, `SafetensorsError`, kept explicit so minified builds keep it. */
  override readonly name = 'SafetensorsError';

  /** Builds an error whose message starts with `safetensors: `. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(`safetensors: ${message}`, options);
  }
}

/** Renders a value for an error message: JSON where possible, cut short so a huge value stays readable. */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'bigint') text = `${value}`;
  else if (value === undefined) text = 'undefined';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
