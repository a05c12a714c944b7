// The machine's own toolchains the local stack builds with; a missing one gets one line saying so.
import { spawn, spawnSync } from 'node:child_process';

export class MissingTool extends Error {}

export function requireTool(command: string, versionArgs: string[], purpose: string): string {
  const out = spawnSync(command, versionArgs, { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new MissingTool(`${command} is not installed or not on PATH: ${purpose}`);
  }
  return `${out.stdout}${out.stderr}`.trim().split('\n')[0]!;
}

/** Runs a build tool to completion: its stdout on success; on failure an error carrying the tail of its output. */
export function runTool(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let tail = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      tail = (tail + c.toString()).slice(-8000);
    });
    child.stderr.on('data', (c: Buffer) => (tail = (tail + c.toString()).slice(-8000)));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(
            new Error(
              `${command} ${args
                .filter((a) => !a.startsWith('-'))
                .slice(0, 2)
                .join(' ')} failed (exit ${code}):\n${tail}`,
            ),
          ),
    );
  });
}
