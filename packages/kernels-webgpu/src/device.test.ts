import { describe, expect, test } from 'vitest';
import { acquireDevice } from './device.js';

describe('acquireDevice', () => {
  test('names the missing driver and how to get one when no adapter is found', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice({ gpu })).rejects.toThrow(/no GPU adapter found.*lavapipe.*mesa-vulkan-drivers/s);
  });
});
