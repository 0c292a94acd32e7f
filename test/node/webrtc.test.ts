// WebRTC transport and signaling server. Every scenario runs in a private network namespace this test
// creates (unshare -n, a veth pair, a default route; ARCHITECTURE.md "Testing WebRTC without leaving the
// machine"), so no WebRTC packet reaches a real interface. The scenarios live in
// fixtures/webrtc-scenarios.ts; each prints "ok …" lines and exits 0 when every check in it held.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { netnsUnavailable, runNodeInNetns } from './fixtures/netns.ts';

const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/webrtc-scenarios.ts');
const skip = netnsUnavailable();
if (skip) console.log(`# webrtc tests skipped: ${skip}`);

async function scenario(name: string, expectOk: RegExp[], timeoutMs = 45_000): Promise<void> {
  await scenarioOutput(name, expectOk, timeoutMs);
}

async function scenarioOutput(name: string, expectOk: RegExp[], timeoutMs = 45_000): Promise<string> {
  const run = await runNodeInNetns(SCENARIOS, [name], timeoutMs);
  const output = `--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
  assert.equal(run.signal, null, `scenario ${name} was killed by ${run.signal} after ${run.ms} ms\n${output}`);
  assert.equal(run.code, 0, `scenario ${name} exited with ${run.code}\n${output}`);
  for (const line of expectOk) assert.match(run.stdout, line, `scenario ${name}: missing ${line}\n${output}`);
  for (const line of run.stdout.trim().split('\n')) console.log(line);
  return run.stdout;
}

// Each scenario is its own process in its own namespace. They run one after another: on a 2-core machine,
// side by side they cost more in UDP drops and SCTP retransmission stalls than they save, and the load
// delays the ICE timers the silent-peer scenario measures.
test('webrtc transport in a private network namespace', { skip: skip ?? false }, async (t) => {
  await t.test('point to point: 0 B to 24 MiB, multi-chunk, both ways, out of order; orderly close', () =>
    scenario('point-to-point', [/^ok 10 messages each way/m, /^ok orderly close/m]),
  );

  await t.test('2, 3 and 4 peers exchange all pairs', () =>
    scenario('all-pairs', [/^ok all-pairs 2 peers/m, /^ok all-pairs 3 peers/m, /^ok all-pairs 4 peers/m]),
  );

  await t.test('a peer that breaks the protocol fails the receiver naming it; the process survives', () =>
    scenario('bad-peer', [
      /^ok bad peer: corrupt checksum/m,
      /^ok bad peer: truncated/m,
      /^ok bad peer: oversized header/m,
      /^ok bad peer: wrong tag channel/m,
      /^ok bad peer: garbage first chunk/m,
      /^ok bad peer: chunk overruns/m,
      /^ok bad peer: unexpected text/m,
      /^ok bad peer: kind differs/m,
    ]),
  );

  await t.test('signaling refuses bad clients and keeps serving', () =>
    scenario('signaling', [
      /^ok wrong secret refused/m,
      /^ok signaling refuses oversized first message/m,
      /^ok signaling refuses oversized signal after a join/m,
      /^ok signaling refuses malformed JSON/m,
      /^ok signaling refuses a duplicate rank/m,
      /^ok signaling announces departures/m,
      /^ok connect without a partner times out/m,
      /^ok the server kept serving/m,
    ]),
  );

  await t.test('collectives over 2, 3 and 4 WebRTC peers match references', () =>
    scenario('collectives', [/^ok collectives on 2 /m, /^ok collectives on 3 /m, /^ok collectives on 4 /m]),
  );

  await t.test('a peer process killed with SIGKILL mid-stream is detected by every survivor within 10 s', async () => {
    const stdout = await scenarioOutput('killed-peer', [/^ok 3 peers in 3 processes/m, /^ok SIGKILL of rank 2/m]);
    const detection = JSON.parse(/^detection-ms (.*)$/m.exec(stdout)![1]) as { rank0: number; rank1: number };
    // The scenario itself checks < 10 s; the signaling server's 'left' notice should make it far quicker.
    assert.ok(detection.rank0 < 10_000 && detection.rank1 < 10_000, `detection took ${JSON.stringify(detection)} ms`);
  });

  await t.test('a peer killed without the signaling notice is detected from the peer connection within 10 s', async () => {
    const stdout = await scenarioOutput('silent-peer', [/^ok SIGKILL noticed without signaling/m]);
    const ms = Number(/^silent-detection-ms (\d+)$/m.exec(stdout)![1]);
    // ICE reports the silence after 5–7.5 s, then an unanswered ping (1 s grace); the scenario checks < 10 s too.
    assert.ok(ms < 10_000, `detection took ${ms} ms`);
  });
});
