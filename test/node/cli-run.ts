// Runs the CLI as a user does (scripts/webgnn.mjs in a child process), for the tests of its commands.

import { spawnSync } from 'node:child_process';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `webgnn ARGS…`; a run that hangs is ended after 5 minutes (code -1). */
export function webgnn(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['scripts/webgnn.mjs', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object on the last line of stdout (the `--json` contract). */
export function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}
