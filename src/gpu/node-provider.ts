// Node adapters through dawn.node. Preference: a hardware GPU, then lavapipe, then SwiftShader.
// SwiftShader's Vulkan driver ships with Debian's chromium; the Vulkan loader reads
// VK_ADD_DRIVER_FILES when Dawn creates its instance, so setting it here (before create()) suffices.

import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { describeAdapter, type AdapterDescription } from './adapter-description.ts';
import { NoAdapterError, type AdapterRequest, type GpuProvider, type ProvidedAdapter } from './provider.ts';

Object.assign(globalThis, globals);

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// Dawn enumerates Vulkan drivers once per process, so SwiftShader is offered from the start.
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
  const extra = process.env.VK_ADD_DRIVER_FILES;
  if (!extra?.includes(SWIFTSHADER_ICD)) {
    process.env.VK_ADD_DRIVER_FILES = extra ? `${extra}:${SWIFTSHADER_ICD}` : SWIFTSHADER_ICD;
  }
}

/** Dawn's `adapter=` flag matches a substring of the adapter's name. */
const DAWN_ADAPTER_FILTER: Record<string, string> = { lavapipe: 'llvmpipe', swiftshader: 'SwiftShader' };

const REQUIRED_SOFTWARE_ORDER = ['lavapipe', 'swiftshader'];

interface Found {
  adapter: GPUAdapter;
  owner: GPU;
}

async function request(flags: string[], powerPreference?: GPUPowerPreference): Promise<Found | null> {
  const owner = create(flags);
  try {
    const adapter = await owner.requestAdapter(powerPreference ? { powerPreference } : undefined);
    return adapter ? { adapter, owner } : null;
  } catch {
    // Dawn throws (rather than returning null) when no adapter matches an `adapter=` filter.
    return null;
  }
}

function provide(found: Found): ProvidedAdapter {
  // dawn.node polls for mapAsync and onSubmittedWorkDone from a setImmediate chain (its AsyncRunner), so
  // waits sleep first; WEBGNN_QUIET_WAITS=0 lets them spin (to measure what the sleeping gains).
  const quietWaits = process.env.WEBGNN_QUIET_WAITS !== '0';
  return { adapter: found.adapter, owner: found.owner, description: describeAdapter(found.adapter, 'vulkan'), quietWaits };
}

function flagsFor(name: string | undefined, toggles: string[] = []): string[] {
  const flags = ['backend=vulkan'];
  if (process.platform !== 'linux') flags.pop();
  if (name) flags.push(`adapter=${DAWN_ADAPTER_FILTER[name.toLowerCase()] ?? name}`);
  if (toggles.length) flags.push(`enable-dawn-features=${toggles.join(',')}`);
  return flags;
}

export class NodeGpuProvider implements GpuProvider {
  async requestAdapter(req: AdapterRequest = {}): Promise<ProvidedAdapter> {
    if (req.name) {
      const found = await request(flagsFor(req.name, req.toggles), 'high-performance');
      if (!found) {
        const names = (await this.listAdapters()).map((a) => a.name);
        throw new NoAdapterError(`no WebGPU adapter named '${req.name}'; available: ${names.join(', ') || 'none'}`);
      }
      return provide(found);
    }
    const hardware = await request(flagsFor(undefined, req.toggles), 'high-performance');
    if (hardware && describeAdapter(hardware.adapter, 'vulkan').kind === 'hardware') return provide(hardware);
    for (const name of REQUIRED_SOFTWARE_ORDER) {
      const found = await request(flagsFor(name, req.toggles));
      if (found) return provide(found);
    }
    if (hardware) return provide(hardware);
    throw new NoAdapterError(
      'no WebGPU adapter found: install a Vulkan driver (as root: `npm run setup`, or ' +
        '`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1` for lavapipe, or `apt-get install chromium` for SwiftShader)',
    );
  }

  async listAdapters(): Promise<AdapterDescription[]> {
    const unique = new Map<string, AdapterDescription>();
    const candidates: Array<[string | undefined, GPUPowerPreference | undefined]> = [
      [undefined, 'high-performance'],
      [undefined, 'low-power'],
      ['lavapipe', undefined],
      ['swiftshader', undefined],
    ];
    for (const [name, power] of candidates) {
      const found = await request(flagsFor(name), power);
      if (!found) continue;
      const d = describeAdapter(found.adapter, 'vulkan');
      unique.set(`${d.vendor}|${d.device}|${d.description}`, d);
    }
    return [...unique.values()];
  }
}
