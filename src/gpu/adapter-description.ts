// What the runtime and the CLI tell users about an adapter; also how a software adapter is recognised.

export type AdapterKind = 'hardware' | 'lavapipe' | 'swiftshader' | 'software';

export interface AdapterDescription {
  /** Short name users pass to `--adapter`. */
  name: string;
  kind: AdapterKind;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  subgroupSizes: [number, number] | null;
  features: string[];
  limits: Record<string, number>;
}

const REPORTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'minUniformBufferOffsetAlignment',
] as const;

export function adapterKind(info: GPUAdapterInfo): AdapterKind {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  if (text.includes('llvmpipe') || text.includes('lavapipe')) return 'lavapipe';
  if (text.includes('swiftshader')) return 'swiftshader';
  if ((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) return 'software';
  return 'hardware';
}

export function describeAdapter(adapter: GPUAdapter, backend: string): AdapterDescription {
  const info = adapter.info;
  const kind = adapterKind(info);
  const limits: Record<string, number> = {};
  for (const key of REPORTED_LIMITS) limits[key] = Number(adapter.limits[key]);
  const min = (info as { subgroupMinSize?: number }).subgroupMinSize;
  const max = (info as { subgroupMaxSize?: number }).subgroupMaxSize;
  const features = [...adapter.features].map(String).sort();
  return {
    name: kind === 'hardware' ? (info.device || info.description || info.vendor || 'gpu') : kind,
    kind,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    backend,
    subgroupSizes: features.includes('subgroups') && min && max ? [min, max] : null,
    features,
    limits,
  };
}
