// Node adapters through dawn.node. Preference: a hardware GPU, then lavapipe, then SwiftShader.
// SwiftShader's Vulkan driver ships with Debian's chromium; the Vulkan loader reads
// VK_ADD_DRIVER_FILES when Dawn creates its instance, so setting it here (before create()) suffices.

import { existsSync, readdirSync } from 'node:fs';
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

/**
 * False only where no hardware Vulkan driver can work: on Linux each needs a device node (DRM render
 * nodes for Mesa's and AMD's drivers, /dev/nvidia*, WSL's /dev/dxg). Then the best adapter is looked for
 * among the software ones at once, without an unfiltered instance whose first adapter would be
 * SwiftShader anyway (and whose enumeration prints Dawn's lavapipe warnings a second time).
 */
function mayHaveHardwareGpu(): boolean {
  if (process.platform !== 'linux') return true;
  const has = (dir: string, prefix: string) => {
    try {
      return readdirSync(dir).some((name) => name.startsWith(prefix));
    } catch {
      return false;
    }
  };
  return has('/dev/dri', 'renderD') || has('/dev', 'nvidia') || existsSync('/dev/dxg');
}

interface Found {
  adapter: GPUAdapter;
  owner: GPU;
}

/**
 * One dawn.node instance per set of flags, for the life of the process (of the thread, in a worker):
 * each instance enumerates every Vulkan driver when first asked for an adapter, and Dawn then prints its
 * "maxDynamic…BuffersPerPipelineLayout artificially reduced from 1000000 to 16" warnings for lavapipe
 * (two lines, to stderr from native code, whatever limits a device later requests). A fresh adapter per
 * device is all dawn.node needs ("adapter is consumed"), and one instance gives as many as asked.
 */
const instances = new Map<string, GPU>();

function instance(flags: string[]): GPU {
  const key = flags.join('\n');
  let owner = instances.get(key);
  if (!owner) instances.set(key, (owner = create(flags)));
  return owner;
}

async function request(flags: string[], powerPreference?: GPUPowerPreference): Promise<Found | null> {
  const owner = instance(flags);
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
    const hardware = mayHaveHardwareGpu() ? await request(flagsFor(undefined, req.toggles), 'high-performance') : null;
    // The first choice already (a hardware GPU, or lavapipe where there is none) needs no second instance.
    const kind = hardware && describeAdapter(hardware.adapter, 'vulkan').kind;
    if (hardware && (kind === 'hardware' || kind === REQUIRED_SOFTWARE_ORDER[0])) return provide(hardware);
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
    const unfiltered: Array<[undefined, GPUPowerPreference]> = [
      [undefined, 'high-performance'],
      [undefined, 'low-power'],
    ];
    const candidates: Array<[string | undefined, GPUPowerPreference | undefined]> = [
      ...(mayHaveHardwareGpu() ? unfiltered : []),
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
