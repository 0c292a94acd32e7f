// Runs the shared kernel case list (test/cases/index.ts) on the browser's WebGPU, the same list that
// test/node/kernels.test.ts runs on Dawn. Playwright (test/browser/kernels.spec.ts) calls
// `window.kernelPage`; a case that cannot get an adapter fails with the reason, it is never skipped.

import { BrowserGpuProvider } from '../../../src/gpu/browser-provider.ts';
import { Gpu } from '../../../src/gpu/gpu.ts';
import { allKernelCases } from '../../cases/index.ts';
import type { CaseResult, PageAdapter, PageDevice } from './api.ts';

const provider = new BrowserGpuProvider();
const cases = allKernelCases();
const byName = new Map(cases.map((c) => [c.name, c]));
// One device per subgroup mode, opened on first use. A promise, so concurrent calls share it; a
// failure is kept too, so every case of that mode reports the same reason.
const devices = new Map<boolean, Promise<Gpu>>();

const log = document.querySelector<HTMLPreElement>('#log')!;
const print = (line: string): void => {
  log.textContent += `${line}\n`;
};

function device(subgroups: boolean): Promise<Gpu> {
  let gpu = devices.get(subgroups);
  if (!gpu) {
    gpu = Gpu.create(provider, { subgroups, label: `browser (subgroups ${subgroups ? 'on' : 'off'})` });
    devices.set(subgroups, gpu);
  }
  return gpu;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const stack = (error.stack ?? '').split('\n').filter((l) => l.trim().startsWith('at ')).slice(0, 4);
  return [`${error.name}: ${error.message}`, ...stack].join('\n');
}

async function adapter(): Promise<PageAdapter> {
  const base = { vendor: '', architecture: '', description: '', subgroupSizes: null, userAgent: navigator.userAgent };
  try {
    const { description } = await provider.requestAdapter();
    return {
      ...base,
      name: description.name,
      kind: description.kind,
      vendor: description.vendor,
      architecture: description.architecture,
      description: description.description,
      subgroupSizes: description.subgroupSizes,
      reason: null,
    };
  } catch (error) {
    return { ...base, name: null, kind: null, reason: describeError(error) };
  }
}

async function describeDevice({ subgroups }: { subgroups: boolean }): Promise<PageDevice> {
  try {
    const gpu = await device(subgroups);
    return { label: gpu.label, subgroups: gpu.hasSubgroups, error: null };
  } catch (error) {
    return { label: '', subgroups: false, error: describeError(error) };
  }
}

async function runCase(name: string, { subgroups }: { subgroups: boolean }): Promise<CaseResult> {
  const start = performance.now();
  const result = (ok: boolean, error: string | null): CaseResult => ({ name, ok, error, ms: performance.now() - start });
  const c = byName.get(name);
  if (!c) return result(false, `no kernel case named '${name}' in test/cases/index.ts`);
  try {
    await c.run(await device(subgroups));
    return result(true, null);
  } catch (error) {
    return result(false, describeError(error));
  }
}

async function runKernelCases(options: { subgroups: boolean; names?: string[] }): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const name of options.names ?? cases.map((c) => c.name)) {
    const r = await runCase(name, options);
    print(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.ms.toFixed(0)} ms)${r.error ? `\n     ${r.error}` : ''}`);
    results.push(r);
  }
  return results;
}

window.kernelPage = { names: () => cases.map((c) => c.name), adapter, device: describeDevice, runCase, runKernelCases };

const button = document.querySelector<HTMLButtonElement>('#run')!;
button.addEventListener('click', async () => {
  button.disabled = true;
  const subgroups = document.querySelector<HTMLInputElement>('#subgroups')!.checked;
  const results = await runKernelCases({ subgroups });
  const failed = results.filter((r) => !r.ok).length;
  print(`${results.length - failed} passed, ${failed} failed`);
  button.disabled = false;
});
log.textContent = `${cases.length} kernel cases loaded\n`;
button.disabled = false;
void adapter().then((a) => print(a.name ? `adapter: ${a.name} (${a.vendor} ${a.architecture})` : `no adapter: ${a.reason}`));
