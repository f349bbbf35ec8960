// What the browser page gives the shared property modules in place of vitest: `test` collects the
// tests for the page to run, `expect` covers the assertions those modules make. Aliased for `vitest`
// when browser.gpu.test.ts bundles the page.

/** A collected test. */
export interface CollectedTest {
  readonly name: string;
  readonly fn: () => unknown;
}

/** Tests registered by the modules the page imports, in order. */
export const collected: CollectedTest[] = [];

/** Collects a test instead of running it. */
export function test(name: string, fn: () => unknown): void {
  collected.push({ name, fn });
}

function fail(message: string): never {
  throw new Error(message);
}

/** The subset of vitest's expect the property modules use. */
export function expect(actual: unknown, what = '') {
  return {
    toEqual(expected: unknown) {
      if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    },
    toBe(expected: unknown) {
      if (!Object.is(actual, expected)) fail(`${what}: expected ${String(expected)}, got ${String(actual)}`);
    },
  };
}
expect.fail = fail;
