// The autoscaler's collection against a Flink that answers as 2.2.1 does (test/support/autoscaled-flink.ts): every
// vertex's metrics in one sample, a Flink whose metric fetcher has not yet run asked again on the next cycle rather
// than remembered as having no metrics, and a stalled Flink cut off at the cycle's budget with no sample.
import { expect } from 'chai';
import { autoscalerConfig } from '../../api/autoscaler/options.js';
import { readJobDetails } from '../../api/autoscaler/sample.js';
import { AutoscalerMetrics } from '../../operator/controllers/autoscaler-metrics.js';
import { fakeFlink, JOB, jobDetails } from '../support/autoscaled-flink.js';

const VERTICES = 6;
const c = autoscalerConfig({ 'job.autoscaler.enabled': 'true' });
const view = readJobDetails(jobDetails(VERTICES, 0))!;

describe('autoscaler metrics collection (a Flink stand-in)', () => {
  it('asks again for the metric names of a vertex that had none yet, instead of starving it', async () => {
    const flink = await fakeFlink({ vertices: VERTICES, emptyListings: VERTICES });
    try {
      const metrics = new AutoscalerMetrics();
      const first = await metrics.collect(flink.url, JOB, jobDetails(VERTICES, 1), view, c, 5000, Date.now());
      expect(first)
        .to.have.property('incomplete')
        .that.match(/no busy time/);
      const second = await metrics.collect(flink.url, JOB, jobDetails(VERTICES, 2), view, c, 5000, Date.now());
      expect(second).to.have.property('sample');
      const sample = (second as { sample: { vertexMetrics: Record<string, { LOAD?: number }> } }).sample;
      expect(Object.values(sample.vertexMetrics).map((m) => m.LOAD)).to.deep.equal(Array(VERTICES).fill(0.9));
      const calls = flink.calls();
      await metrics.collect(flink.url, JOB, jobDetails(VERTICES, 3), view, c, 5000, Date.now());
      expect(
        flink.calls() - calls,
        'names remembered once known: the source listed, every vertex queried, JM, TM',
      ).to.equal(1 + VERTICES + 2);
    } finally {
      flink.close();
    }
  });

  it('ends a cycle at its budget when Flink stalls, with no sample', async () => {
    const flink = await fakeFlink({ vertices: VERTICES, delayMs: 3000 });
    try {
      const started = Date.now();
      const result = await new AutoscalerMetrics().collect(
        flink.url,
        JOB,
        jobDetails(VERTICES, 1),
        view,
        c,
        500,
        started,
      );
      expect(Date.now() - started).to.be.within(450, 1000);
      expect(result).to.deep.equal({ incomplete: 'collecting metrics took longer than its budget of 500 ms' });
    } finally {
      flink.close();
    }
  });
});
