// npm run bench [-- NAME…]: runs the named benchmarks (all when none is named).
import { benchAutoscaler } from './autoscaler.js';
import { benchFlink } from './flink.js';
import { benchImage } from './image.js';
import { benchObjectStores } from './object-stores.js';
import { benchPlugin } from './plugin.js';
import { benchReconciler, benchScale } from './reconciler.js';
import { benchSessionJobs } from './session-jobs.js';
import { benchWebhook } from './webhook.js';

const benchmarks: Record<string, () => Promise<void>> = {
  webhook: benchWebhook,
  flink: benchFlink,
  reconciler: benchReconciler,
  scale: benchScale,
  'session-jobs': benchSessionJobs,
  plugin: benchPlugin,
  image: benchImage,
  'object-stores': benchObjectStores,
  autoscaler: benchAutoscaler,
};
const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(benchmarks)) await benchmarks[name]!();
// Done and reported: a client library's idle keep-alive socket must not keep the run (and so CI) waiting.
process.exit(0);
