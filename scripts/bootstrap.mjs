#!/usr/bin/env node
// Makes the machine ready before any npm script runs: npm dependencies, and on request a Vulkan driver
// for Dawn (--gpu) and Debian's Chromium for Playwright (--browser). It runs before node_modules exists,
// so it uses only node: builtins. When everything is in place it only stats a few files (well under 1 s)
// and prints nothing.
//
//   node scripts/bootstrap.mjs [--gpu] [--browser] [--netns] [--check] [--dry-run]
//
// --check    report what is present or missing, install nothing (alone: reports npm, gpu and browser).
// --dry-run  print the commands an install would run, run none of them.
// WEBGNN_BOOTSTRAP_ASSUME_MISSING=npm,gpu,loader,lavapipe,swiftshader,hardware,browser pretends those are
// missing (gpu = loader + every driver), to try the install and message paths on a ready machine.
// Exit code: 0 when ready, 1 otherwise (with a message on stderr saying what to do).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const CHROMIUM = '/usr/bin/chromium';
const MIN_MESA_MAJOR = 25; // Dawn refuses older lavapipe (bookworm's own Mesa is 22.x)
const BACKPORTS_FILE = '/etc/apt/sources.list.d/webgnn-backports.sources';
const BACKPORTS_SOURCE = [
  'Types: deb',
  'URIs: http://deb.debian.org/debian',
  'Suites: bookworm-backports',
  'Components: main',
  'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
];
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };
const APT_INSTALL = ['apt-get', 'install', '-y', '--no-install-recommends'];

const assumeMissing = new Set(
  (process.env.WEBGNN_BOOTSTRAP_ASSUME_MISSING ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const pretendMissing = (what) =>
  assumeMissing.has(what) ||
  (assumeMissing.has('gpu') && ['loader', 'lavapipe', 'swiftshader', 'hardware'].includes(what));

const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------
// Small helpers

/** Runs a command quietly; returns its stdout, or null when it cannot run or exits non-zero. */
function capture(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout : null;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

function listDir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** True when `cmd` is an executable on PATH (or in the sbin directories a non-root PATH may lack). */
function which(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.filter(Boolean).some((d) => existsSync(join(d, cmd)));
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Major version from a Debian version string such as "1:25.0.7-2~bpo12+1" (epoch dropped). */
export function debianMajor(version) {
  const m = /^(?:\d+:)?(\d+)/.exec(version ?? '');
  return m ? Number(m[1]) : null;
}

/** Installed version of a Debian package, or null (not installed, or no dpkg). */
function dpkgVersion(pkg) {
  const out = capture('dpkg-query', ['-W', '-f=${db:Status-Abbrev}|${Version}', pkg]);
  if (!out) return null;
  const [status, version] = out.split('|');
  return status.startsWith('ii') ? version.trim() : null; // "rc" = removed, config files left
}

/** The version apt would install ("Candidate:" of apt-cache policy), or null. */
function aptCandidate(pkg) {
  const m = /Candidate:\s*(\S+)/.exec(capture('apt-cache', ['policy', pkg]) ?? '');
  return m && m[1] !== '(none)' ? m[1] : null;
}

function osRelease() {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return Object.fromEntries(
      text
        .split('\n')
        .map((l) => /^([A-Z_]+)=("?)(.*)\2$/.exec(l.trim()))
        .filter(Boolean)
        .map((m) => [m[1], m[3]]),
    );
  } catch {
    return {};
  }
}

const shellQuote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

// ---------------------------------------------------------------------------------------------------------
// npm dependencies

/**
 * Compares the lock file's packages with node_modules/.package-lock.json (npm's record of what it
 * installed), so that a lock file merely touched (git checkout) does not trigger a reinstall.
 * Optional packages for other platforms are in the lock but rightly not installed.
 */
export function lockMatchesInstalled(lock, hidden) {
  const want = lock?.packages;
  const have = hidden?.packages;
  if (!want || !have) return false;
  for (const [key, entry] of Object.entries(want)) {
    if (key === '') continue; // the project itself
    const got = have[key];
    if (!got) {
      if (entry.optional || (entry.dev && omitsDev())) continue;
      return false;
    }
    if (got.version !== entry.version || got.integrity !== entry.integrity || got.resolved !== entry.resolved) {
      return false;
    }
  }
  return Object.keys(have).every((key) => key in want);
}

/** npm ci --omit=dev (or NODE_ENV=production) leaves devDependencies out on purpose. */
const omitsDev = () =>
  process.env.NODE_ENV === 'production' || /\bdev\b/.test(process.env.npm_config_omit ?? '');

function checkNpm() {
  const pkg = readJson(join(ROOT, 'package.json'));
  if (!pkg) return { ok: false, detail: `no readable package.json in ${ROOT}`, fatal: true };
  const hasLock = existsSync(join(ROOT, 'package-lock.json'));
  const command = hasLock ? ['npm', 'ci'] : ['npm', 'install'];
  const stale = (detail) => ({ ok: false, detail, command });

  if (pretendMissing('npm')) return stale('pretending node_modules is missing (WEBGNN_BOOTSTRAP_ASSUME_MISSING)');
  if (!existsSync(join(ROOT, 'node_modules'))) return stale('node_modules is missing');

  const names = Object.keys({ ...pkg.dependencies, ...(omitsDev() ? {} : pkg.devDependencies) });
  const absent = names.filter((n) => !existsSync(join(ROOT, 'node_modules', n, 'package.json')));
  if (absent.length) return stale(`not installed: ${absent.join(', ')}`);

  if (hasLock) {
    const lockPath = join(ROOT, 'package-lock.json');
    const hiddenPath = join(ROOT, 'node_modules', '.package-lock.json');
    const hiddenTime = mtimeMs(hiddenPath);
    if (hiddenTime === null) return stale('node_modules/.package-lock.json is missing');
    // Only when the lock is newer is it worth parsing both (keeps the ready path fast).
    if (mtimeMs(lockPath) > hiddenTime && !lockMatchesInstalled(readJson(lockPath), readJson(hiddenPath))) {
      return stale('package-lock.json changed since the last install');
    }
  }
  return { ok: true, detail: `${names.length} dependencies installed` };
}

function ensureNpm(state, opts) {
  if (state.ok) return true;
  if (state.fatal) {
    log(state.detail);
    return false;
  }
  log(`npm dependencies: ${state.detail}; ${opts.dryRun ? 'would run' : 'running'} \`${state.command.join(' ')}\` in ${ROOT}`);
  if (opts.dryRun) return false;
  const r = spawnSync(state.command[0], state.command.slice(1), { cwd: ROOT, stdio: 'inherit' });
  if (r.status === 0) return true;
  if (r.error) {
    log(`could not run npm (${r.error.message}); install Node.js with npm, then try again.`);
    return false;
  }
  log(`\`${state.command.join(' ')}\` failed (exit code ${r.status ?? r.signal}).`);
  if (state.command[1] === 'ci') {
    log('If package.json and package-lock.json disagree, run `npm install` once to update the lock file.');
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Vulkan for Dawn

/** Where the dynamic linker would find `lib`: the usual directories first (cheap), then ldconfig's cache. */
function findLibrary(lib) {
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch];
  const dirs = [
    ...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []),
    '/usr/lib64',
    '/lib64',
    '/usr/lib',
    '/lib',
    '/usr/local/lib',
  ];
  const hit = dirs.map((d) => join(d, lib)).find((p) => existsSync(p));
  if (hit) return hit;
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const out = capture(ldconfig, ['-p']);
    if (out === null) continue;
    const line = out.split('\n').find((l) => l.trim().startsWith(`${lib} `));
    return line ? line.split('=>').pop().trim() : null;
  }
  return null;
}

/** Vulkan driver manifests (ICD json files) with the library each one loads. */
function listIcds() {
  return ICD_DIRS.flatMap((dir) =>
    listDir(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => {
        const path = join(dir, f);
        return { path, library: basename(readJson(path)?.ICD?.library_path ?? '') };
      }),
  );
}

const isLavapipe = (icd) => /^lvp_icd/.test(basename(icd.path)) || icd.library.startsWith('libvulkan_lvp');

/** GPU device nodes: a hardware driver's manifest alone proves nothing (Mesa ships Intel/AMD ones everywhere). */
function gpuDeviceNodes() {
  const dri = listDir('/dev/dri').filter((f) => f.startsWith('renderD')).map((f) => `/dev/dri/${f}`);
  const nvidia = listDir('/dev').filter((f) => /^nvidia\d+$/.test(f)).map((f) => `/dev/${f}`);
  return [...dri, ...nvidia];
}

export function checkGpu() {
  const loader = pretendMissing('loader') ? null : findLibrary('libvulkan.so.1');
  const icds = listIcds();

  const lvp = pretendMissing('lavapipe') ? undefined : icds.find(isLavapipe);
  const mesa = lvp ? dpkgVersion('mesa-vulkan-drivers') : null;
  const dpkg = which('dpkg-query');
  // Without dpkg (not Debian) the version cannot be read this way; such distributions ship recent Mesa.
  const lavapipeOk = Boolean(lvp) && (dpkg ? (debianMajor(mesa) ?? 0) >= MIN_MESA_MAJOR : true);

  const swiftshader = !pretendMissing('swiftshader') && existsSync(SWIFTSHADER_ICD);

  const hardwareIcds = pretendMissing('hardware') ? [] : icds.filter((i) => !isLavapipe(i));
  const devices = hardwareIcds.length ? gpuDeviceNodes() : [];
  const hardwareOk = hardwareIcds.length > 0 && devices.length > 0;

  const drivers = [];
  if (hardwareOk) drivers.push(`hardware (${hardwareIcds.map((i) => basename(i.path)).join(', ')}; ${devices.join(', ')})`);
  if (lavapipeOk) drivers.push(`lavapipe (Mesa ${mesa ?? 'version unchecked'})`);
  if (swiftshader) drivers.push(`SwiftShader (${SWIFTSHADER_ICD})`);

  const problems = [];
  if (!loader) problems.push('the Vulkan loader libvulkan.so.1 (package libvulkan1) is missing');
  if (!drivers.length) {
    if (lvp && !lavapipeOk) {
      problems.push(`lavapipe is Mesa ${mesa ?? '(not installed by dpkg)'}, Dawn needs Mesa ${MIN_MESA_MAJOR} or newer`);
    } else {
      problems.push('no Vulkan driver (lavapipe, SwiftShader, or a hardware GPU driver with its device)');
    }
  }
  return {
    ok: problems.length === 0,
    loaderOk: Boolean(loader),
    driverOk: drivers.length > 0,
    detail: problems.length ? problems.join('; ') : `loader ${loader}; ${drivers.join(', ')}`,
  };
}

// Install plans are lists of steps, so that root runs exactly the commands a non-root user is shown.
const run = (argv) => ({ argv, env: argv[0] === 'apt-get' && argv[1] === 'install' ? APT_ENV : {} });
const writeFile = (path, lines) => ({ path, text: `${lines.join('\n')}\n` });

function describeStep(step) {
  if (step.argv) {
    const env = Object.entries(step.env).map(([k, v]) => `${k}=${v} `).join('');
    return env + step.argv.map(shellQuote).join(' ');
  }
  return `printf '%s\\n' ${step.text.trimEnd().split('\n').map(shellQuote).join(' ')} > ${step.path}`;
}

function hasBackportsSource() {
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`)];
  return files
    .filter((f) => /\.(list|sources)$/.test(f))
    .some((f) => {
      try {
        return readFileSync(f, 'utf8')
          .split('\n')
          .some((l) => !l.trim().startsWith('#') && /\bbookworm-backports\b/.test(l));
      } catch {
        return false;
      }
    });
}

/**
 * Steps that give lavapipe with Mesa >= 25, or null when this release has no such package.
 * Bookworm: from bookworm-backports (pinned at priority 100, hence -t). Other releases: only if apt's own
 * candidate is new enough (root refreshes the lists first; otherwise the current lists are all we have).
 */
function lavapipePlan(release) {
  if (release.VERSION_CODENAME === 'bookworm') {
    return [
      ...(hasBackportsSource() ? [] : [writeFile(BACKPORTS_FILE, BACKPORTS_SOURCE)]),
      run(['apt-get', 'update']),
      run([...APT_INSTALL, '-t', 'bookworm-backports', 'mesa-vulkan-drivers', 'libvulkan1']),
    ];
  }
  if ((debianMajor(aptCandidate('mesa-vulkan-drivers')) ?? 0) < MIN_MESA_MAJOR) return null;
  return [run(['apt-get', 'update']), run([...APT_INSTALL, 'mesa-vulkan-drivers', 'libvulkan1'])];
}

const swiftshaderPlan = () => [run(['apt-get', 'update']), run([...APT_INSTALL, 'chromium', 'libvulkan1'])];
const loaderPlan = () => [run(['apt-get', 'update']), run([...APT_INSTALL, 'libvulkan1'])];
const chromiumPlan = () => [run(['apt-get', 'update']), run([...APT_INSTALL, 'chromium'])];

let aptUpdated = false; // one `apt-get update` per run is enough

/** Runs the steps as root; returns false at the first failure. */
function execute(steps, opts) {
  for (const step of steps) {
    const isUpdate = step.argv?.[0] === 'apt-get' && step.argv[1] === 'update';
    if (isUpdate && aptUpdated) continue;
    log(`${opts.dryRun ? 'would run' : 'running'}: ${describeStep(step)}`);
    if (opts.dryRun) {
      aptUpdated ||= isUpdate;
      continue;
    }
    if (step.path) {
      try {
        writeFileSync(step.path, step.text);
      } catch (e) {
        log(`could not write ${step.path}: ${e.message}`);
        return false;
      }
      continue;
    }
    const r = spawnSync(step.argv[0], step.argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...step.env } });
    if (r.status !== 0) {
      log(`failed (${r.error ? r.error.message : `exit code ${r.status ?? r.signal}`})`);
      return false;
    }
    if (isUpdate) aptUpdated = true;
  }
  return true;
}

/** The commands to show a user who is not root. */
function instructions(alternatives) {
  const lines = ['Run as root (for example in `sudo -i`), then try again:'];
  alternatives.forEach(({ title, steps }, i) => {
    lines.push(`  ${i === 0 ? '' : 'or, '}${title}:`);
    for (const step of steps) lines.push(`    ${describeStep(step)}`);
  });
  return lines.join('\n');
}

function ensureGpu(state, opts) {
  if (state.ok) return true;
  log(`GPU: ${state.detail}`);
  const release = osRelease();

  if (!which('apt-get')) {
    log(
      'Install a Vulkan loader (libvulkan.so.1) and a driver: Mesa >= 25 lavapipe, Chromium\'s SwiftShader ' +
        `(${SWIFTSHADER_ICD}), or your GPU's Vulkan driver, with this system's package manager.`,
    );
    return false;
  }

  // Outside bookworm the plan depends on what apt offers, so root refreshes the package lists first.
  if (isRoot() && !state.driverOk && release.VERSION_CODENAME !== 'bookworm') {
    execute([run(['apt-get', 'update'])], opts);
  }

  const alternatives = [];
  if (state.driverOk) {
    alternatives.push({ title: 'the Vulkan loader', steps: loaderPlan() });
  } else {
    const lvp = lavapipePlan(release);
    if (lvp) alternatives.push({ title: `lavapipe (Mesa >= ${MIN_MESA_MAJOR})`, steps: lvp });
    alternatives.push({ title: 'SwiftShader from Debian\'s chromium (3-4x slower than lavapipe)', steps: swiftshaderPlan() });
  }

  if (!isRoot()) {
    log(`Dawn (the webgpu package) needs a Vulkan loader and driver. ${instructions(alternatives)}`);
    return false;
  }

  // Root: try lavapipe first, then SwiftShader; check again after each, since apt may install less than hoped.
  for (const { title, steps } of alternatives) {
    log(`installing ${title}`);
    if (execute(steps, opts) && !opts.dryRun && checkGpu().ok) return true;
  }
  if (!opts.dryRun) log(`still no usable Vulkan setup: ${checkGpu().detail}`);
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Chromium for Playwright

function checkBrowser() {
  const ok = !pretendMissing('browser') && existsSync(CHROMIUM);
  return { ok, detail: ok ? CHROMIUM : `${CHROMIUM} is missing` };
}

function ensureBrowser(state, opts) {
  if (state.ok) return true;
  log(`browser: ${state.detail} (the tests use Debian's chromium, never a downloaded browser)`);
  if (!which('apt-get')) {
    log(`Install Chromium so that ${CHROMIUM} exists, with this system's package manager.`);
    return false;
  }
  if (!isRoot()) {
    log(instructions([{ title: 'Debian\'s chromium', steps: chromiumPlan() }]));
    return false;
  }
  log('installing Debian\'s chromium');
  if (!execute(chromiumPlan(), opts) || opts.dryRun) return false;
  const after = checkBrowser();
  if (!after.ok) log(`still missing: ${after.detail}`);
  return after.ok;
}

// ---------------------------------------------------------------------------------------------------------
// Network namespaces for the WebRTC tests (ARCHITECTURE.md): `unshare` (util-linux) and `ip` (iproute2).
// Optional: without them (or without root) those tests are skipped with the reason, so this never fails.

const iprouteplan = () => [run(['apt-get', 'update']), run([...APT_INSTALL, 'iproute2'])];

function checkNetns() {
  const ok = !pretendMissing('netns') && Boolean(which('ip')) && Boolean(which('unshare'));
  return { ok, detail: ok ? 'ip and unshare present' : `${which('ip') ? '' : 'ip (iproute2) '}${which('unshare') ? '' : 'unshare (util-linux) '}missing` };
}

function ensureNetns(state, opts) {
  if (state.ok) return true;
  log(`netns: ${state.detail}: the WebRTC tests need them to build a private network namespace`);
  if (!which('apt-get') || !isRoot()) {
    log(`${isRoot() ? '' : 'not root: '}the WebRTC tests will be skipped (as root on Debian: apt-get install -y iproute2)`);
    return true;
  }
  log('installing iproute2');
  execute(iprouteplan(), opts);
  return true;
}

// ---------------------------------------------------------------------------------------------------------

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      gpu: { type: 'boolean' },
      browser: { type: 'boolean' },
      netns: { type: 'boolean' },
      check: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  // --check alone reports everything; otherwise only what was asked for (npm always).
  const all = values.check && !values.gpu && !values.browser && !values.netns;
  return {
    gpu: Boolean(values.gpu || all),
    browser: Boolean(values.browser || all),
    netns: Boolean(values.netns || all),
    check: Boolean(values.check),
    dryRun: Boolean(values['dry-run']),
    help: Boolean(values.help),
  };
}

function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    log(`${e.message}\nusage: node scripts/bootstrap.mjs [--gpu] [--browser] [--netns] [--check] [--dry-run]`);
    return 1;
  }
  if (opts.help) {
    process.stdout.write('usage: node scripts/bootstrap.mjs [--gpu] [--browser] [--netns] [--check] [--dry-run]\n');
    return 0;
  }

  const parts = [
    { name: 'npm', check: checkNpm, ensure: ensureNpm },
    ...(opts.gpu ? [{ name: 'gpu', check: checkGpu, ensure: ensureGpu }] : []),
    ...(opts.browser ? [{ name: 'browser', check: checkBrowser, ensure: ensureBrowser }] : []),
    ...(opts.netns ? [{ name: 'netns', check: checkNetns, ensure: ensureNetns }] : []),
  ];

  if (opts.check) {
    let ok = true;
    for (const part of parts) {
      const state = part.check();
      ok &&= state.ok;
      log(`${part.name.padEnd(8)}${state.ok ? 'ok      ' : 'MISSING '}${state.detail}`);
    }
    return ok ? 0 : 1;
  }

  // Stop at the first failure (later parts may need earlier ones); a dry run shows every part's plan.
  const notReady = [];
  for (const part of parts) {
    if (part.ensure(part.check(), opts)) continue;
    notReady.push(part.name);
    if (!opts.dryRun) break;
  }
  if (notReady.length) log(`not ready: ${notReady.join(', ')}${opts.dryRun ? ' (dry run)' : ''}`);
  return notReady.length ? 1 : 0;
}

// Runs only as a script, so the pure helpers above can be imported by a test.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main();
}
