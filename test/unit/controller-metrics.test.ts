// The frame's metrics carry controller-runtime's names, and the work queue is read when scraped — never a value left
// over from the last reconcile. A reconcile that never ends shows as a growing longest-running time.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { autoscalerGauges } from '../../operator/controllers/autoscaler-gauges.js';
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

describe('controller gauges read from the caches', () => {
  it("follow what the resources' status says at scrape time: a vertex that goes, goes from /metrics", async () => {
    const registry = new Registry();
    const metrics = new ControllerMetrics(registry);
    const vertex = (id: string, p: number) => ({ id, name: id, parallelism: p, trueProcessingRate: 12.5 });
    let vertices = [vertex('a', 2), vertex('b', 4)];
    const objects = () => [{ metadata: { namespace: 'ns', name: 'job' }, status: { autoscaler: { vertices } } }];
    metrics.trackGauges('flinkdeployment', autoscalerGauges('flinkdeployments'), objects);
    const series = async () =>
      (await registry.metrics()).split('\n').filter((l) => l.startsWith('flink_operator_autoscaler_vertex{'));
    expect(await series()).to.include(
      'flink_operator_autoscaler_vertex{namespace="ns",resource="job",vertex="b",vertex_name="b",metric="PARALLELISM"} 4',
    );
    expect(await series()).to.have.length(4);
    vertices = [vertex('a', 3)];
    expect(await series()).to.deep.equal([
      'flink_operator_autoscaler_vertex{namespace="ns",resource="job",vertex="a",vertex_name="a",metric="PARALLELISM"} 3',
      'flink_operator_autoscaler_vertex{namespace="ns",resource="job",vertex="a",vertex_name="a",metric="TRUE_PROCESSING_RATE"} 12.5',
    ]);
    metrics.untrackGauges('flinkdeployment');
    expect(await series()).to.deep.equal([]);
  });
});
