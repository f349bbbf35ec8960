import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SafetensorsError, SafetensorsReader, arrayBufferSource, readSafetensors, serializeSafetensors } from '../src/index.js';
import { NUM_RUNS, countingSource, metadataArb, tensorsArb } from './helpers.js';

/** Arbitrary valid file. */
const fileArb = fc.tuple(tensorsArb, metadataArb).map(([t, m]) => serializeSafetensors(t, m));

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

/** Clear outcome check: a mutant either parses or throws a SafetensorsError; nothing else. */
function checkInMemory(bytes: Uint8Array): 'ok' | 'error' {
  try {
    readSafetensors(bytes);
    return 'ok';
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    expect(e.message.startsWith('safetensors: ')).toBe(true);
    expect(e.message.length).toBeLessThan(600);
    return 'error';
  }
}

/** Same through the lazy reader, which must never read (so never allocate) outside the source. */
async function checkLazy(bytes: Uint8Array): Promise<'ok' | 'error'> {
  const source = countingSource(arrayBufferSource(bytes));
  try {
    const reader = await SafetensorsReader.open(source);
    for (const name of reader.names()) await reader.tensor(name);
    expect(source.bytesRead()).toBe(bytes.length);
    return 'ok';
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    // The header read is bounded by the real size, never by the length the file claims.
    for (const [offset, length] of source.reads) expect(offset + length).toBeLessThanOrEqual(bytes.length);
    return 'error';
  } finally {
    expect(source.bytesRead()).toBeLessThanOrEqual(bytes.length);
  }
}

async function checkBoth(bytes: Uint8Array): Promise<'ok' | 'error'> {
  const a = checkInMemory(bytes);
  const b = await checkLazy(bytes);
  expect(b).toBe(a);
  return a;
}

function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => void, extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  const n = headerLength(bytes);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(header);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + bytes.length - 8 - n + extra.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + n), 8 + text.length);
  out.set(extra, out.length - extra.length);
  return out;
}

const tensorNames = (header: Record<string, unknown>) => Object.keys(header).filter((k) => k !== '__metadata__');
type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

describe('fuzzing mutated files: every mutant parses or throws SafetensorsError', () => {
  it('truncation at any point is always an error', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.nat(), async (bytes, cut) => {
        const at = cut % bytes.length;
        expect(await checkBoth(bytes.subarray(0, at))).toBe('error');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('flipped bytes in the length prefix or header', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (bytes, flips) => {
        const mutant = bytes.slice();
        const end = 8 + headerLength(bytes);
        for (const [pos, mask] of flips) mutant[pos % end]! ^= mask;
        await checkBoth(mutant);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('huge or wrong header lengths', async () => {
    const lengthArb = fc.oneof(
      fc.constantFrom(2n ** 53n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 32n, 2n ** 31n, 100_000_001n, 0n, 1n),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.integer({ min: -16, max: 16 }).map((d) => BigInt(d)),
    );
    await fc.assert(
      fc.asyncProperty(fileArb, lengthArb, async (bytes, value) => {
        const mutant = bytes.slice();
        // Small values are taken as a change relative to the true length.
        const n = value >= -16n && value <= 16n && value !== 0n && value !== 1n ? BigInt(headerLength(bytes)) + value : value;
        if (n === BigInt(headerLength(bytes)) || n < 0n) return;
        new DataView(mutant.buffer).setBigUint64(0, n, true);
        await checkBoth(mutant);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('overlapping offsets, holes, and trailing junk', async () => {
    const nonEmpty = fc.tuple(tensorsArb, metadataArb).filter(([t]) => [...t.values()].some((x) => x.data.byteLength > 0));
    await fc.assert(
      fc.asyncProperty(nonEmpty, fc.nat(), fc.integer({ min: 1, max: 16 }), fc.constantFrom('overlap', 'hole', 'junk', 'shift'), async ([t, m], pick, delta, kind) => {
        const bytes = serializeSafetensors(t, m);
        let mutant: Uint8Array;
        if (kind === 'junk') {
          mutant = new Uint8Array(bytes.length + delta);
          mutant.set(bytes);
        } else {
          mutant = withHeader(bytes, (h) => {
            const names = tensorNames(h).filter((k) => {
              const [b, e] = (h[k] as Entry).data_offsets;
              return e > b;
            });
            const e = h[names[pick % names.length]!] as Entry;
            const [b, end] = e.data_offsets;
            if (kind === 'overlap') {
              // Grows into the previous tensor (or, for the first one, into the next).
              e.data_offsets = b >= delta ? [b - delta, end] : [b, end + delta];
            }
            else if (kind === 'hole') e.data_offsets = [b, Math.max(b, end - delta)]; // shrinks, leaving a gap
            else e.data_offsets = [b + delta, end + delta]; // moves: overlap or hole, and maybe past the end
          });
        }
        // Every one of these breaks the exact tiling (or the byte count), so none may parse.
        expect(await checkBoth(mutant)).toBe('error');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('random JSON in the dtype, shape, data_offsets and __metadata__ fields', async () => {
    const nonEmpty = fc.tuple(tensorsArb, metadataArb).filter(([t]) => t.size > 0);
    await fc.assert(
      fc.asyncProperty(nonEmpty, fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets', '__metadata__', 'entry'), fc.jsonValue(), async ([t, m], pick, field, value) => {
        const mutant = withHeader(serializeSafetensors(t, m), (h) => {
          if (field === '__metadata__') h.__metadata__ = value;
          else {
            const names = tensorNames(h);
            const name = names[pick % names.length]!;
            if (field === 'entry') h[name] = value;
            else (h[name] as Record<string, unknown>)[field] = value;
          }
        });
        await checkBoth(mutant);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('random bytes are rejected cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
        await checkBoth(bytes);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
