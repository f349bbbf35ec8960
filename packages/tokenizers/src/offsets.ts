/**
 * Converts UTF-16 offsets into code-point offsets, the unit the Rust library reports
 * (`encode_char_offsets`). Returns the converter, or null when both units agree.
 */
export function codePointConverter(text: string): ((i: number) => number) | null {
  let hasPair = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) { hasPair = true; break; }
  }
  if (!hasPair) return null;
  const map = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = cp;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { map[i + 1] = cp; i++; }
    }
    cp++;
  }
  map[text.length] = cp;
  return (i) => map[i]!;
}
