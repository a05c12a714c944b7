// The machine's own toolchains the local stack builds with; a missing one gets one line saying so.
import { spawnSync } from 'node:child_process';

export class MissingTool extends Error {}

export function requireTool(command: string, versionArgs: string[], purpose: string): string {
  const out = spawnSync(command, versionArgs, { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new MissingTool(`${command} is not installed or not on PATH: ${purpose}`);
  }
  return `${out.stdout}${out.stderr}`.trim().split('\n')[0]!;
}
