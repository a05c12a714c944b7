// One local stack per test run, started by the first test that asks for it (unit runs never start one),
// with its own state directory and ports, and a fresh namespace per test.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStack, repoRoot } from '../../local/stack.js';

let shared: Promise<LocalStack> | undefined;

/** A cold start builds the Kubernetes binaries first (about 5 minutes on 2 cores); a warm one takes seconds. */
export const STACK_START_TIMEOUT_MS = 30 * 60_000;

export function localStack(): Promise<LocalStack> {
  // Wiped at the start of a run and kept after it, for reading the components' logs when something failed.
  const stateDir = join(repoRoot, '.local/test-stack');
  shared ??=
    (rmSync(stateDir, { recursive: true, force: true }),
    LocalStack.start({
      stateDir,
      // Watches then reach etcd, so an etcd compaction produces a real 410 Gone.
      watchCache: false,
      progress: (line) => process.stderr.write(`      [stack] ${line}\n`),
    }));
  return shared;
}

/** Root hook: the stack goes down with the run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (shared) await (await shared).stop();
  },
};

/**
 * For a describe block of end-to-end tests: the shared stack (with time for a first-run build), a generous
 * per-test timeout, and a fresh namespace before each test, read through the returned function.
 */
export function useStackNamespace(suite: Mocha.Suite): () => string {
  let ns = '';
  suite.timeout(180_000);
  suite.beforeAll(async function () {
    this.timeout(STACK_START_TIMEOUT_MS);
    await localStack();
  });
  suite.beforeEach(async () => (ns = await freshNamespace()));
  // Deleting the namespace deletes its FlinkDeployments; the operator's finalizer then stops their Flink JVMs,
  // so one test's clusters do not weigh on the next. Not awaited: nothing later depends on it being gone.
  suite.afterEach(async () => void (await kubectl(['delete', 'namespace', ns, '--wait=false'])));
  return () => ns;
}

export async function freshNamespace(prefix = 't'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await (await localStack()).createNamespace(name);
  return name;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The pinned kubectl as admin, never throwing: tests assert on the exit code and output. */
export async function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  const stack = await localStack();
  return new Promise((resolve) => {
    const child = execFile(
      stack.binaries.kubectl,
      [`--kubeconfig=${stack.kubeconfig}`, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    // kubectl may exit (done, or refused) before it reads its stdin: the broken pipe is not the test's failure, the
    // exit code and output tell what happened.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input ?? '');
  });
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

/** Resolves once a stack process has logged `text` (e.g. an operator "waiting for leadership" or "became leader"). */
export async function untilLogged(
  process: { spec: { name: string }; logTail(lines?: number): string },
  text: string,
  timeoutMs = 30_000,
): Promise<void> {
  await eventually(`${process.spec.name} to log "${text}"`, async () => process.logTail(80).includes(text), timeoutMs);
}

/** A scratch directory for a suite inside the stack's state (kept after the run with the logs). */
export async function scratchDir(name: string): Promise<string> {
  const dir = join((await localStack()).controlPlane.pki.dir, '..', 'test-scratch', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Only `identity` runs: the stack's own operator steps aside (gracefully, releasing the lease). */
export async function runAlone(identity: string, options: Parameters<LocalStack['startOperator']>[1]) {
  const stack = await localStack();
  await stack.stopOperator('operator');
  const operator = await stack.startOperator(identity, options);
  await untilLogged(operator, 'became leader');
  return operator;
}
