// The frame's metrics carry controller-runtime's names, and the work-queue depth is read when scraped — never a
// value left over from the last reconcile.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ControllerMetrics } from '../../operator/runtime/controller.js';

describe('controller metrics', () => {
  it('reports each controller\'s queue depth as it is at scrape time', async () => {
    const registry = new Registry();
    const metrics = new ControllerMetrics(registry);
    let depth = 3;
    metrics.track('flinkdeployment', () => depth);
    metrics.adds.inc({ name: 'flinkdeployment' });
    expect(await registry.metrics()).to.match(/^workqueue_depth\{name="flinkdeployment"\} 3$/m);
    depth = 0;
    expect(await registry.metrics()).to.match(/^workqueue_depth\{name="flinkdeployment"\} 0$/m);
    expect(await registry.metrics()).to.match(/^workqueue_adds_total\{name="flinkdeployment"\} 1$/m);
    for (const name of ['workqueue_retries_total', 'workqueue_work_duration_seconds', 'flink_operator_reconcile_total', 'flink_operator_reconcile_duration_seconds']) {
      expect(await registry.metrics()).to.include(`# TYPE ${name}`);
    }
  });
});
