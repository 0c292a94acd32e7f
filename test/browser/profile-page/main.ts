// The browser side of a measured profile: measureDeviceSpec on this tab's WebGPU (navigator.gpu, as
// src/browser does), and measureLink over two transports living in this tab: a LocalTransport pair, and
// two WebRtcTransports linked by the browser's own RTCPeerConnection through an in-page signaling pair
// (no server; host candidates only, so run it only inside a private network namespace: see
// scripts/measure-browser-profile.mjs). scripts/measure-browser-profile.mjs calls `window.profilePage`.

import { BrowserGpuProvider } from '../../../src/gpu/browser-provider.ts';
import { Gpu } from '../../../src/gpu/gpu.ts';
import { LocalTransport } from '../../../src/dist/local-transport.ts';
import type { SignalingHandlers } from '../../../src/dist/signaling-client.ts';
import type { Transport } from '../../../src/dist/transport.ts';
import { connectWebRtc, type SignalingConnector } from '../../../src/dist/webrtc-transport.ts';
import type { DeviceSpec, LinkSpec } from '../../../src/plan/device-profile.ts';
import { DEFAULT_TAB_MEMORY_BYTES, measureDeviceSpec, measureLink, type MeasureLinkOptions, type ProfileSizes } from '../../../src/plan/measure-profile.ts';

export interface ProfilePageAdapter {
  name: string;
  kind: string;
  description: string;
  vendor: string;
  architecture: string;
  backend: string;
  subgroups: boolean;
  userAgent: string;
}

export interface ProfilePageApi {
  /** Opens a device, measures it and destroys it. */
  measureDevice(options: { sizes: ProfileSizes; memoryBytes?: number }): Promise<{ adapter: ProfilePageAdapter; device: DeviceSpec }>;
  /** Measures the named links ('local', 'webrtc') between two transports of this tab. */
  measureLinks(options: { links: string[]; link?: MeasureLinkOptions }): Promise<Record<string, LinkSpec>>;
}

declare global {
  interface Window {
    profilePage: ProfilePageApi;
  }
}

const log = document.querySelector<HTMLPreElement>('#log')!;
const print = (line: string): void => {
  log.textContent += `${line}\n`;
};

async function measureDevice(options: { sizes: ProfileSizes; memoryBytes?: number }): Promise<{ adapter: ProfilePageAdapter; device: DeviceSpec }> {
  const gpu = await Gpu.create(new BrowserGpuProvider(), { label: 'profile' });
  try {
    const a = gpu.adapter;
    print(`adapter ${a.name} (${a.description}), ${options.sizes} sizes`);
    const device = await measureDeviceSpec(gpu, {
      sizes: options.sizes,
      memoryBytes: options.memoryBytes ?? DEFAULT_TAB_MEMORY_BYTES,
      onProgress: (p) => print(`${p.done}/${p.total} ${p.what}`),
    });
    const adapter = { name: a.name, kind: a.kind, description: a.description, vendor: a.vendor, architecture: a.architecture, backend: a.backend, subgroups: gpu.hasSubgroups, userAgent: navigator.userAgent };
    return { adapter, device };
  } finally {
    await gpu.close();
  }
}

/** Signaling for two ranks of this tab: each side's messages are handed to the other's handlers on the next task. */
function signalingPair(): [SignalingConnector, SignalingConnector] {
  const handlers: (SignalingHandlers | null)[] = [null, null];
  const connector =
    (rank: number): SignalingConnector =>
    async (h) => {
      const other = 1 - rank;
      handlers[rank] = h;
      const present = handlers[other] ? [other] : [];
      if (handlers[other]) setTimeout(() => handlers[other]?.joined?.(rank));
      return {
        peers: present,
        signal: (to, payload) => {
          const copy = JSON.parse(JSON.stringify(payload)) as unknown;
          setTimeout(() => handlers[to]?.signal?.(rank, copy));
        },
        leave: async () => {
          handlers[rank] = null;
        },
      };
    };
  return [connector(0), connector(1)];
}

async function pair(kind: string): Promise<[Transport, Transport]> {
  if (kind === 'local') {
    const [a, b] = LocalTransport.group(2);
    return [a, b];
  }
  if (kind === 'webrtc') {
    const [s0, s1] = signalingPair();
    const [a, b] = await Promise.all([0, 1].map((rank) => connectWebRtc({ rank, size: 2, signaling: rank === 0 ? s0 : s1, iceServers: [], timeoutMs: 15_000 })));
    return [a, b];
  }
  throw new Error(`profile page: no link '${kind}' (local, webrtc)`);
}

async function measureLinks(options: { links: string[]; link?: MeasureLinkOptions }): Promise<Record<string, LinkSpec>> {
  const out: Record<string, LinkSpec> = {};
  for (const kind of options.links) {
    const [a, b] = await pair(kind);
    try {
      out[kind] = await measureLink({ near: a, far: b }, options.link);
      print(`link ${kind}: ${(out[kind].bandwidth_bytes_per_s / 1e6).toFixed(1)} MB/s, latency ${(out[kind].latency_s * 1e6).toFixed(1)} µs`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }
  return out;
}

window.profilePage = { measureDevice, measureLinks };

const button = document.querySelector<HTMLButtonElement>('#run')!;
button.addEventListener('click', async () => {
  button.disabled = true;
  try {
    const { device } = await measureDevice({ sizes: 'quick' });
    print(JSON.stringify(device));
    await measureLinks({ links: ['local'] });
  } catch (error) {
    print(`failed: ${(error as Error).message}`);
  }
  button.disabled = false;
});
log.textContent = 'ready\n';
button.disabled = false;
