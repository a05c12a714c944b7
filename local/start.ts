// npm start: the local stack in the foreground until Ctrl-C.
import { dirname, join, relative } from 'node:path';
import { LocalStack, repoRoot } from './stack.js';
import { MissingTool } from './tools.js';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
let stack: LocalStack;
try {
  stack = await LocalStack.start({ stateDir: join(repoRoot, '.local/stack'), progress: (line) => console.log(`[${elapsed()}] ${line}`) });
  await stack.createNamespace('default');
} catch (err) {
  // A missing toolchain is one line; anything else keeps its stack trace, which the developer will want.
  console.error(err instanceof MissingTool ? `cannot start the local stack: ${err.message}` : err);
  process.exit(1);
}

const rel = (path: string) => relative(process.cwd(), path) || '.';
console.log(`
Local stack up in ${elapsed()}: Kubernetes ${stack.controlPlane.server}, admission webhook, flink-operator, one kwok node,
and real Flink for every JobManager pod (addresses in ${rel(stack.flinkRestOverridesFile)}).
Logs and state: ${rel(join(repoRoot, '.local/stack'))}/

  export KUBECONFIG=${stack.kubeconfig} PATH=${dirname(stack.binaries.kubectl)}:$PATH

Then try:
  kubectl apply -f ${rel(join(repoRoot, 'local/examples/basic.yaml'))}
  kubectl get flinkdeployments
  kubectl explain flinkdeployment.spec.job

Ctrl-C stops everything.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local stack …');
    void stack.stop().then(() => process.exit(0));
  });
}
