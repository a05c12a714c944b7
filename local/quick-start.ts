// What `npm start` tells a user once the stack is up: the shell line that puts its kubectl and `kubectl flink` on
// PATH, and the first commands to try. Kept apart from start.ts so a test can run exactly the line a user copies.
import { join, relative } from 'node:path';
import type { LocalStack } from './stack.js';

/** The line a user pastes into a shell: the stack's kubeconfig, and its kubectl with the plugin beside it first on PATH. */
export function shellLine(stack: LocalStack): string {
  return `export KUBECONFIG=${stack.kubeconfig} PATH=${stack.userBinDir()}:$PATH`;
}

export function quickStart(
  stack: LocalStack,
  options: { repoRoot: string; stateDir: string; elapsed: string },
): string {
  const rel = (path: string) => relative(process.cwd(), path) || '.';
  return `
Local stack up in ${options.elapsed}: Kubernetes ${stack.controlPlane.server}, admission webhook, flink-operator, one kwok node,
and real Flink for every JobManager pod (addresses in ${rel(stack.flinkRestOverridesFile)}).
Logs and state: ${rel(options.stateDir)}/

  ${shellLine(stack)}

Then try:
  kubectl apply -f ${rel(join(options.repoRoot, 'local/examples/basic.yaml'))}
  kubectl flink status state-machine --watch
  kubectl get flinkdeployments
  kubectl flink suspend state-machine
  kubectl explain flinkdeployment.spec.job

Ctrl-C stops everything.`;
}
