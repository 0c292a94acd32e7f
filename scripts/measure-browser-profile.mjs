#!/usr/bin/env node
// Measures a browser tab's device profile: headless Chromium (/usr/bin/chromium, WebGPU on SwiftShader on a
// machine without a GPU) opens test/browser/profile-page/ from Vite's dev server on 127.0.0.1 and runs
// measureDeviceSpec there (src/plan/measure-profile.ts, the same code `webgnn profile` runs on Dawn), then
// measures the links between two transports of the tab: local, and webrtc (Chromium's own RTCPeerConnection).
// Writes profiles/browser-tab-swiftshader.json (validated, atomically); not part of any test suite.
//
//   node scripts/measure-browser-profile.mjs [--out FILE] [--quick] [--no-webrtc]
//
// WebRTC traffic must stay inside a private network namespace (ARCHITECTURE.md, "Testing WebRTC without
// leaving the machine"): as root the script re-runs itself under `unshare -n` with the veth pair and default
// route the tests use; where that is impossible it measures without the webrtc link and says so.
import { spawn } from 'node:child_process';
import { createServer as netServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

await import('./register.mjs');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const value = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const quick = argv.includes('--quick');
const out = resolve(value('--out') ?? join(root, 'profiles/browser-tab-swiftshader.json'));
const { NETNS_SETUP, insidePrivateNetns, netnsUnavailable } = await import('../test/node/fixtures/netns.ts');

if (!argv.includes('--in-netns') && !argv.includes('--no-webrtc')) {
  const why = netnsUnavailable();
  if (why) {
    console.error(`measure-browser-profile: no private network namespace (${why}): measuring without the webrtc link`);
    argv.push('--no-webrtc');
  } else {
    // The command line goes in as sh's positional parameters: nothing to quote.
    const child = spawn('unshare', ['-n', 'sh', '-c', `${NETNS_SETUP}; exec "$0" "$@"`, process.execPath, self, ...argv, '--in-netns'], { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
    await new Promise(() => {});
  }
}
const webrtc = !argv.includes('--no-webrtc');
if (webrtc && !insidePrivateNetns()) {
  console.error('measure-browser-profile: the webrtc link is measured only inside the private network namespace');
  process.exit(2);
}

const { chromium } = await import('@playwright/test');
const { createServer } = await import('vite');
const { CHROMIUM, CHROMIUM_ARGS } = await import('../playwright.config.ts');
const { describeShapes, DEFAULT_TAB_MEMORY_BYTES } = await import('../src/plan/measure-profile.ts');
const { PROFILE_FORMAT } = await import('../src/plan/device-profile.ts');
const { formatProfile, writeProfileFile } = await import('../src/node/profile-command.ts');

/** As playwright.webrtc.config.ts: plain host candidates (no mDNS names, which nothing resolves in the namespace). */
const DISABLE = '--disable-features=';
const disabled = ['WebRtcHideLocalIpsWithMdns', ...CHROMIUM_ARGS.filter((a) => a.startsWith(DISABLE)).flatMap((a) => a.slice(DISABLE.length).split(','))];
const args = webrtc ? [...CHROMIUM_ARGS.filter((a) => !a.startsWith(DISABLE)), DISABLE + disabled.join(',')] : CHROMIUM_ARGS;

async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = netServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sizes = quick ? 'quick' : 'full';
const link = quick ? { bulkBytes: 2 ** 20, messageBytes: 256 * 2 ** 10, bulkRepeats: 3, roundTrips: 20 } : { bulkBytes: 8 * 2 ** 20, messageBytes: 2 ** 20, bulkRepeats: 3, roundTrips: 50 };
const port = await freePort();
const vite = await createServer({ configFile: join(root, 'vite.config.ts'), root, logLevel: 'warn', server: { host: '127.0.0.1', port, strictPort: true } });
await vite.listen();
const browser = await chromium.launch({ executablePath: CHROMIUM, args, headless: true });
let code = 0;
try {
  const page = await browser.newPage();
  page.on('console', (m) => process.stderr.write(`  [tab] ${m.text()}\n`));
  page.on('pageerror', (e) => process.stderr.write(`  [tab error] ${e.message}\n`));
  await page.goto(`http://127.0.0.1:${port}/test/browser/profile-page/index.html`);
  await page.waitForFunction(() => 'profilePage' in window, null, { timeout: 120_000 });
  const started = Date.now();
  const { adapter, device } = await page.evaluate((o) => window.profilePage.measureDevice(o), { sizes, memoryBytes: DEFAULT_TAB_MEMORY_BYTES });
  const links = await page.evaluate((o) => window.profilePage.measureLinks(o), { links: webrtc ? ['local', 'webrtc'] : ['local'], link });
  const mib = (b) => `${+(b / 2 ** 20).toFixed(2)} MiB`;
  const profile = {
    webgnn_profile: PROFILE_FORMAT,
    name: `Chromium tab, WebGPU on ${adapter.name}`,
    source: 'measured',
    reference:
      `measured by 'node scripts/measure-browser-profile.mjs${quick ? ' --quick' : ''}' in headless Chromium ${browser.version()} (${adapter.userAgent}; ${args.join(' ')}) ` +
      `with WebGPU on adapter ${adapter.name} (${[adapter.description, `${adapter.vendor} ${adapter.architecture}`.trim(), adapter.backend, `subgroups ${adapter.subgroups ? 'on' : 'off'}`].filter(Boolean).join('; ')}), no GPU on the machine, ${new Date().toISOString()}; ` +
      `memory_bytes: 4 GiB, the tab's assumed budget (browsers expose no GPU memory size); steady state: warm-up, then the median of repeated batches, each recorded into one submit and timed to onSubmittedWorkDone; ` +
      `${describeShapes(sizes)}; links between two transports of the tab: local = a LocalTransport pair` +
      (webrtc
        ? `, webrtc = two WebRtcTransports over Chromium's own RTCPeerConnection (one ordered data channel, 256 KiB chunks, signaling inside the tab), host candidates on a veth pair in a private network namespace: no real network in between, so an upper bound on bandwidth and a lower bound on latency between real peers`
        : ' (no webrtc link: no private network namespace to measure it in)') +
      `; bandwidth from ${mib(link.bulkBytes)} in ${mib(link.messageBytes)} messages until the peer's acknowledgement (median of ${link.bulkRepeats}), latency half an 8-byte round trip (${link.roundTrips} timed in 5 blocks, the median block)`,
    device,
    links,
  };
  await writeProfileFile(out, profile);
  console.log(formatProfile(profile));
  console.log(`wrote ${out} (${((Date.now() - started) / 1000).toFixed(1)} s of measurement)`);
} catch (error) {
  console.error(`measure-browser-profile: ${error.message}`);
  code = 1;
} finally {
  await browser.close();
  await vite.close();
}
process.exit(code);
