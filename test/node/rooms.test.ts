// Rooms with Node members: each member a process of its own (`webgnn train --room` leads, `webgnn join`
// joins), linked by WebRTC inside a private network namespace this test makes (ARCHITECTURE.md, "Testing
// WebRTC without leaving the machine"). The scenarios live in fixtures/room-scenarios.ts.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { netnsUnavailable, runNodeInNetns } from './fixtures/netns.ts';

const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/room-scenarios.ts');
const skip = netnsUnavailable();
if (skip) console.log(`# room tests skipped: ${skip}`);

async function scenario(name: string, expectOk: RegExp[], timeoutMs = 240_000): Promise<string> {
  const run = await runNodeInNetns(SCENARIOS, [name], timeoutMs);
  const output = `--- stdout\n${run.stdout}--- stderr\n${run.stderr.slice(-20_000)}`;
  assert.equal(run.signal, null, `scenario ${name} was killed by ${run.signal} after ${run.ms} ms\n${output}`);
  assert.equal(run.code, 0, `scenario ${name} exited with ${run.code}\n${output}`);
  for (const line of expectOk) assert.match(run.stdout, line, `scenario ${name}: missing ${line}\n${output}`);
  for (const line of run.stdout.trim().split('\n')) console.log(line);
  return run.stdout;
}

test('rooms of Node processes in a private network namespace', { skip: skip ?? false }, async (t) => {
  await t.test('a member process killed with SIGKILL mid-run: the others roll back, re-partition and finish, losses as on one device', async () => {
    await scenario('killed-member', [/^ok the two survivors finished/m, /^ok the summary lists member 3/m, /^ok every epoch's loss/m]);
  });
  await t.test('the leader killed: the deputy, which holds the dataset, leads the rest to the end', async () => {
    await scenario('killed-leader', [/^ok the two survivors finished/m, /^ok the summary lists member 1/m, /^ok every epoch's loss/m]);
  });
  await t.test('a member frozen (SIGSTOP, as behind a cut network) is dropped as silent within 10 s and the rest go on', async () => {
    await scenario('frozen-member', [/^ok the two survivors finished/m, /^ok the summary lists member 3 \(silent\)/m, /^ok every epoch's loss/m]);
  });
  await t.test('below the minimum the room pauses; a member joining later is admitted and training resumes from the commit', async () => {
    await scenario('pause-and-join', [/^ok the leader, alone below the minimum/m, /^ok a member that joined the paused room/m, /^ok every epoch's loss across the pause/m]);
  });
  await t.test('webgnn train --mode sar --elastic: a worker process killed mid-run is recovered from', async () => {
    await scenario('elastic-flag', [/^ok --elastic: worker 2 killed/m]);
  });
  await t.test('a pipeline room (--mode pipe): a stage killed mid-run, the others re-plan over 2 stages from the commit and finish', async () => {
    await scenario('pipe-killed', [/^ok three members, three stages/m, /^ok the two survivors re-planned/m, /^ok every epoch's loss equals the in-process pipeline's/m]);
  });
  await t.test('a temporal room (train-temporal --room, DistTGL): a member killed mid-run, the others re-form 2 memory groups from the commit and finish', async () => {
    await scenario('temporal-killed', [/^ok three members, three memory groups/m, /^ok the two survivors re-formed 2 memory groups/m, /^ok every epoch's loss equals in-process DistTGL's/m]);
  });
  for (const misdeed of ['malformed', 'oversized', 'duplicate']) {
    await t.test(`a member that sends a ${misdeed} message is dropped naming it; the rest finish with untouched weights`, async () => {
      const run = await runNodeInNetns(SCENARIOS, ['hostile', misdeed], 240_000);
      const output = `--- stdout\n${run.stdout}--- stderr\n${run.stderr.slice(-20_000)}`;
      assert.equal(run.code, 0, `scenario hostile ${misdeed} exited with ${run.code}\n${output}`);
      assert.match(run.stdout, new RegExp(`^ok ${misdeed}: the hostile member was dropped`, 'm'), output);
      assert.match(run.stdout, new RegExp(`^ok ${misdeed}: nothing the hostile member sent reached the weights`, 'm'), output);
      for (const line of run.stdout.trim().split('\n')) console.log(line);
    });
  }
});
