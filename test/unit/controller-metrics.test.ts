// The frame's metrics carry controller-runtime's names, and the work queue is read when scraped — never a value left
// over from the last reconcile. A reconcile that never ends shows as a growing longest-running time.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ControllerMetrics } from '../../operator/runtime/controller.js';
import { WorkQueue, type Outcome } from '../../operator/work-queue.js';

describe('controller metrics', () => {
  it("reports each controller's queue depth and its running reconciles as they are at scrape time", async () => {
    const registry = new Registry();
    const metrics = new ControllerMetrics(registry);
    let finish = () => {};
    const stuck = new Promise<Outcome>((resolve) => (finish = () => resolve({ requeueAfterMs: undefined })));
    const queue = new WorkQueue(
      () => stuck,
      { workers: 1 },
      () => undefined,
    );
    metrics.track('flinkdeployment', queue);
    metrics.adds.inc({ name: 'flinkdeployment' });
    for (const key of ['ns/a', 'ns/b', 'ns/c']) queue.add(key);
    queue.start();
    await new Promise((r) => setTimeout(r, 300));
    const during = await registry.metrics();
    expect(during).to.match(/^workqueue_depth\{name="flinkdeployment"\} 2$/m);
    const longest = Number(
      /^workqueue_longest_running_processor_seconds\{name="flinkdeployment"\} (\S+)$/m.exec(during)?.[1],
    );
    expect(longest, 'seconds the one reconcile has run').to.be.within(0.25, 2);
    expect(during).to.match(/^workqueue_unfinished_work_seconds\{name="flinkdeployment"\} 0\.[2-9]/m);
    finish();
    await queue.stop();
    const after = await registry.metrics();
    expect(after).to.match(/^workqueue_longest_running_processor_seconds\{name="flinkdeployment"\} 0$/m);
    expect(await registry.metrics()).to.match(/^workqueue_adds_total\{name="flinkdeployment"\} 1$/m);
    for (const name of [
      'workqueue_retries_total',
      'workqueue_work_duration_seconds',
      'flink_operator_reconcile_total',
      'flink_operator_reconcile_duration_seconds',
    ]) {
      expect(await registry.metrics()).to.include(`# TYPE ${name}`);
    }
  });
});
