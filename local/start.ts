// npm start: the local stack in the foreground until Ctrl-C.
import { join } from 'node:path';
import { quickStart } from './quick-start.js';
import { LocalStack, repoRoot } from './stack.js';
import { MissingTool } from './tools.js';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const stateDir = join(repoRoot, '.local/stack');
let stack: LocalStack;
try {
  stack = await LocalStack.start({ stateDir, progress: (line) => console.log(`[${elapsed()}] ${line}`) });
  await stack.createNamespace('default');
} catch (err) {
  // A missing toolchain is one line; anything else keeps its stack trace, which the developer will want.
  console.error(err instanceof MissingTool ? `cannot start the local stack: ${err.message}` : err);
  process.exit(1);
}

console.log(quickStart(stack, { repoRoot, stateDir, elapsed: elapsed() }));

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local stack …');
    void stack.stop().then(() => process.exit(0));
  });
}
