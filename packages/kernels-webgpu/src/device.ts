// One way to get a GPUDevice everywhere: `navigator.gpu` in browsers, the `webgpu` npm package (Dawn)
// in Node. The device is requested with the adapter's real limits, because the defaults (128 MiB
// bindings, 256 invocations) would cap what every kernel may assume.

/** What `acquireDevice` found: the device, its adapter's description and the optional features it enabled. */
export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapterName: string;
  /** The adapter's vendor, architecture, device and description (empty strings where it does not say). */
  readonly adapterInfo: AdapterInfo;
  readonly features: ReadonlySet<string>;
}

/** What an adapter says about itself (GPUAdapterInfo's strings), so results can name their device. */
export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** Options for `acquireDevice`. */
export interface DeviceOptions {
  /** A `GPU` object to use instead of navigator.gpu / Dawn (tests, or a browser worker's own). */
  readonly gpu?: GPU;
  readonly powerPreference?: GPUPowerPreference;
  /** Lower limits than the adapter's. WebGPU grants no limit below its default (128 MiB bindings): to exercise binding windows on small tensors, use the backend's `bindingLimitBytes`. */
  readonly limits?: Partial<Record<'maxStorageBufferBindingSize' | 'maxBufferSize', number>>;
  /** Optional features not to request even where the adapter offers them (tests: f16 without `shader-f16`). */
  readonly disabledFeatures?: readonly GPUFeatureName[];
}

const NO_ADAPTER_HELP =
  'webgpu: no GPU adapter found. In Node this package uses Dawn (the `webgpu` npm package), which needs a Vulkan driver: ' +
  'install a GPU driver, or Mesa\'s lavapipe CPU driver (Debian 12: enable bookworm-backports, then ' +
  '`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`). In a browser, use one with WebGPU enabled ' +
  '(Chrome/Edge 113+, or --enable-unsafe-webgpu).';

// Dawn's instance dies with its JS object, taking every device with it (crashes in native threads,
// at whatever moment the GC runs); hold the GPU and adapters for the life of the process.
const keepAlive: unknown[] = [];

async function nodeGpu(): Promise<GPU> {
  // Loaded lazily so browser bundles never see the native module.
  const mod = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: Record<string, unknown> };
  // Dawn's objects check `instanceof GPUBufferUsage`-style globals; give Node the constants too.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = mod.create([]);
  keepAlive.push(gpu);
  return gpu;
}

/** Finds a GPU (navigator.gpu or Dawn) and requests a device with the adapter's limits and f16/subgroups when offered. */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let gpu = opts.gpu ?? nav?.gpu;
  if (!gpu) {
    try {
      gpu = await nodeGpu();
    } catch (err) {
      throw new Error(`${NO_ADAPTER_HELP} (loading the \`webgpu\` package failed: ${(err as Error).message})`);
    }
  }
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : {});
  if (!adapter) throw new Error(NO_ADAPTER_HELP);
  keepAlive.push(adapter);
  const wanted = (['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[]).filter((f) => adapter.features.has(f) && !opts.disabledFeatures?.includes(f));
  const l = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxBufferSize: l.maxBufferSize,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
  for (const [k, v] of Object.entries(opts.limits ?? {})) if (v !== undefined) requiredLimits[k] = Math.min(v, requiredLimits[k]!);
  const device = await adapter.requestDevice({ requiredFeatures: wanted, requiredLimits });
  const info = adapter.info as GPUAdapterInfo | undefined;
  const adapterName = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(' ') || 'unknown adapter';
  const adapterInfo = { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' };
  return { device, adapterName, adapterInfo, features: new Set(wanted) };
}
