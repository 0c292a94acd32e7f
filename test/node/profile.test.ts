// Device profiles: the format's checks name the field at fault, every shipped profile parses, the
// measurement gives well-formed curves on the test adapter, and `webgnn profile` writes a file that parses.
// Nothing here depends on the clock beyond a rate or a time being positive and finite.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalTransport } from '../../src/dist/local-transport.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { measureThreadsLink } from '../../src/node/profile-command.ts';
import { KERNELS, parseDeviceProfile, parseDeviceProfileText, PROFILE_FORMAT, ProfileError, type DeviceProfile, type LinkSpec } from '../../src/plan/device-profile.ts';
import { deviceMeasurements, measureDeviceSpec, measureLink } from '../../src/plan/measure-profile.ts';

const PROFILES = new URL('../../profiles/', import.meta.url);

function sample(): DeviceProfile {
  const curve = [
    { work: 1e3, per_s: 1e8 },
    { work: 1e6, per_s: 1e9 },
  ];
  return {
    webgnn_profile: PROFILE_FORMAT,
    name: 'sample',
    source: 'published',
    reference: 'made up for a test',
    device: {
      memory_bytes: 2 ** 30,
      max_buffer_bytes: 2 ** 28,
      max_storage_binding_bytes: 2 ** 27,
      dispatch_s: 1e-5,
      readback_s: 1e-4,
      shared_processor: false,
      host_cores: 1,
      rates: Object.fromEntries(KERNELS.map((k) => [k, curve])) as DeviceProfile['device']['rates'],
    },
    links: { local: { bandwidth_bytes_per_s: 1e9, latency_s: 1e-5 } },
  };
}

/** A deep copy of the sample with `edit` applied. */
function broken(edit: (p: Record<string, any>) => void): unknown {
  const p = JSON.parse(JSON.stringify(sample()));
  edit(p);
  return p;
}

function assertLink(name: string, link: LinkSpec): void {
  assert.ok(Number.isFinite(link.bandwidth_bytes_per_s) && link.bandwidth_bytes_per_s > 0, `${name} bandwidth ${link.bandwidth_bytes_per_s}`);
  assert.ok(Number.isFinite(link.latency_s) && link.latency_s >= 0, `${name} latency ${link.latency_s}`);
}

test('parseDeviceProfile accepts a well-formed profile and refuses a malformed one, naming the field', () => {
  assert.equal(parseDeviceProfile(sample(), 'sample.json').name, 'sample');
  const refuse = (value: unknown, pattern: RegExp) => assert.throws(() => parseDeviceProfile(value, 'bad.json'), (e: Error) => e instanceof ProfileError && pattern.test(e.message) && e.message.includes('bad.json'));
  refuse(broken((p) => delete p.device.rates.spmm), /rates.*missing field 'spmm'/);
  refuse(broken((p) => (p.device.memory_bytes = -1)), /'memory_bytes' must be a positive finite number, got -1/);
  refuse(broken((p) => (p.webgnn_profile = 2)), /'webgnn_profile' must be 1/);
  refuse(broken((p) => delete p.webgnn_profile), /missing field 'webgnn_profile'/);
  refuse(broken((p) => (p.source = 'guessed')), /'source' must be 'measured' or 'published'/);
  refuse(broken((p) => (p.device.rates.matmul = [])), /rates\.matmul: expected a non-empty array/);
  refuse(broken((p) => (p.device.rates.attention[1].per_s = Number.NaN)), /rates\.attention\[1\]: field 'per_s'/);
  refuse(broken((p) => delete p.links.local.latency_s), /links\.local: missing field 'latency_s'/);
  refuse(broken((p) => (p.links = {})), /at least one link/);
  assert.throws(() => parseDeviceProfileText('{ "webgnn_profile": 1,', 'cut.json'), /cut\.json: not valid JSON/);
});

test('every profile shipped in profiles/ parses, and says where its figures come from', () => {
  const files = readdirSync(PROFILES).filter((f) => f.endsWith('.json')).sort();
  for (const expected of ['browser-tab-swiftshader.json', 'nvidia-a100-40gb.json', 'nvidia-rtx-3060-laptop.json']) assert.ok(files.includes(expected), `profiles/${expected} is missing`);
  for (const file of files) {
    const p = parseDeviceProfileText(readFileSync(new URL(file, PROFILES), 'utf8'), `profiles/${file}`);
    assert.ok(p.reference.length > 40, `profiles/${file}: a reference that says how it was obtained`);
    for (const k of KERNELS) assert.ok(p.device.rates[k].length >= 3, `profiles/${file}: ${k} is a curve of at least 3 sizes`);
    if (file.startsWith('nvidia-')) assert.equal(p.source, 'published', file);
    if (file.startsWith('browser-')) {
      assert.equal(p.source, 'measured', file);
      assert.equal(p.device.memory_bytes, 4 * 2 ** 30, `${file}: the tab's stated 4 GiB budget`);
    }
  }
});

test('measureDeviceSpec on the test adapter gives positive, finite curves by increasing size that pass parseDeviceProfile', async () => {
  const gpu = await createNodeGpu({ label: 'profile test' });
  try {
    const seen: number[] = [];
    const before = gpu.pool.allocatedBytes;
    const spec = await measureDeviceSpec(gpu, { sizes: 'quick', memoryBytes: 2 ** 30, repeats: 2, targetSeconds: 0.002, onProgress: (p) => seen.push(p.done) });
    assert.deepEqual(seen, Array.from({ length: deviceMeasurements({ sizes: 'quick' }) }, (_, i) => i + 1), 'progress once per measurement, in order');
    assert.equal(spec.memory_bytes, 2 ** 30);
    assert.equal(spec.max_buffer_bytes, Number(gpu.device.limits.maxBufferSize));
    assert.equal(spec.max_storage_binding_bytes, gpu.maxStorageBinding);
    assert.ok(Number.isFinite(spec.dispatch_s) && spec.dispatch_s > 0, `dispatch_s ${spec.dispatch_s}`);
    for (const k of KERNELS) {
      const curve = spec.rates[k];
      assert.equal(curve.length, 3, `${k}: three quick sizes`);
      for (const p of curve) assert.ok(Number.isFinite(p.work) && p.work > 0 && Number.isFinite(p.per_s) && p.per_s > 0, `${k}: ${JSON.stringify(p)}`);
      for (let i = 1; i < curve.length; i++) assert.ok(curve[i].work > curve[i - 1].work, `${k}: work increases along the curve`);
    }
    const profile = { ...sample(), source: 'measured', device: spec };
    assert.deepEqual(parseDeviceProfile(JSON.parse(JSON.stringify(profile)), 'measured').device, spec);
    gpu.pool.trim();
    // What may stay is the uniform arena's 64 KiB chunks, which a device keeps for its later submissions.
    const left = gpu.pool.allocatedBytes - before;
    assert.ok(left <= 2 ** 20 && left % 2 ** 16 === 0, `everything the measurement allocated is freed but uniform chunks (${left} bytes held)`);
  } finally {
    gpu.destroy();
  }
});

test('measureLink over a local pair and over a worker_thread peer gives a positive bandwidth and latency', async () => {
  const [a, b] = LocalTransport.group(2);
  const small = { bulkBytes: 2 ** 18, messageBytes: 2 ** 16, bulkRepeats: 2, roundTrips: 10 };
  try {
    assertLink('local', await measureLink({ near: a, far: b }, small));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  assertLink('threads', await measureThreadsLink(small));
});

test('answerLink refuses a plan out of bounds before allocating for it', async () => {
  const [a, b] = LocalTransport.group(2);
  const { answerLink } = await import('../../src/plan/measure-profile.ts');
  const { makeTag, TAG_CHANNEL } = await import('../../src/dist/transport.ts');
  const answering = answerLink(b, 0);
  await a.send(1, makeTag(TAG_CHANNEL.test, 0xbf00), Uint32Array.of(1, 1, 2 ** 30));
  await assert.rejects(answering, /out of bounds.*1073741824 bytes/);
  await Promise.all([a.close(), b.close()]);
});

test('webgnn profile --quick --out FILE --json writes a profile that parses and prints it as the last line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webgnn-profile-'));
  const out = join(dir, 'here.json');
  const r = spawnSync(process.execPath, ['scripts/webgnn.mjs', 'profile', '--quick', '--out', out, '--json', '--no-progress', '--name', 'test machine', '--memory-bytes', '123456789'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const file = parseDeviceProfileText(readFileSync(out, 'utf8'), out);
  assert.equal(file.source, 'measured');
  assert.equal(file.name, 'test machine');
  assert.equal(file.device.memory_bytes, 123456789);
  assert.match(file.reference, /webgnn profile --quick/);
  assert.deepEqual(Object.keys(file.links).sort(), ['local', 'threads']);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(JSON.parse(lines[lines.length - 1]), file);
  assert.match(r.stdout, /spmm/);
  assert.deepEqual(readdirSync(dir), ['here.json'], 'no temporary file left behind');
});
