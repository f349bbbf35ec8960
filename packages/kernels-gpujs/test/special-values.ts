// The shared special-value checks (@tessera/autograd/testing) as tests on any gpujs backend. Only
// `test` and `expect(..).toEqual` are used, so the browser page can run them.
import { expect, test } from 'vitest';
import { specialValueChecks } from '@tessera/autograd/testing';

/** Registers the special-value tests for the backend named `device`. */
export function specialValueTests(device: string): void {
  for (const check of specialValueChecks(device)) test(check.name, async () => expect(await check.mismatches()).toEqual([]));
}
