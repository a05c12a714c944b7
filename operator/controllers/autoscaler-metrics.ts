// Collects one autoscaler sample of a running job from its REST API (reference §1.2): the job's details, each
// vertex's subtask metrics, the JobManager's slots and the TaskManagers' heap and GC. Every call has its deadline
// (`job.autoscaler.flink.rest-client.timeout`) and the whole its budget; a collection that fails or runs out of it
// yields no sample, only the reason — no decision is ever made on part of a job's metrics.
import type { AutoscalerConfig } from '../../api/autoscaler/options.js';
import {
  buildSample,
  isSource,
  metricsToQuery,
  sourcePartitions,
  type AggregatedMetric,
  type JobView,
  type SampleResult,
} from '../../api/autoscaler/sample.js';
import { FlinkRestClient } from '../flink-rest.js';

/** Vertex calls in flight at once: a 20-vertex job is asked in five rounds, not twenty. */
const CONCURRENCY = 4;
const NAME_CACHE_LIMIT = 5000;
const TM_METRICS = ['Status.JVM.Memory.Heap.Max', 'Status.JVM.Memory.Heap.Used'];
const GC_METRIC = 'Status.JVM.GarbageCollector.All.TimeMsPerSecond';

export class AutoscalerMetrics {
  /** Metric names per job vertex (a non-source's do not change while the job runs). */
  private readonly names = new Map<string, string[]>();

  constructor(private readonly signal?: AbortSignal) {}

  /** The sample, within `budgetMs` of calls to `baseUrl`; `view` is the job's `GET /jobs/:id` just read. */
  async collect(
    baseUrl: string,
    jobId: string,
    details: Record<string, unknown>,
    view: JobView,
    c: AutoscalerConfig,
    budgetMs: number,
    now: number,
  ): Promise<SampleResult> {
    const budget = AbortSignal.timeout(budgetMs);
    const signal = this.signal ? AbortSignal.any([this.signal, budget]) : budget;
    const flink = new FlinkRestClient(baseUrl, Math.min(c.restTimeout, budgetMs), signal);
    try {
      const vertexMetrics: Record<string, AggregatedMetric[]> = {};
      const partitions: Record<string, number> = {};
      await inPool(view.topology.vertices, CONCURRENCY, async (v) => {
        if (v.finished) return;
        const key = `${jobId}/${v.id}`;
        // A source's names change as it runs (pending records after the first record, partitions as discovered).
        let names = isSource(v) ? undefined : this.names.get(key);
        if (!names) {
          names = (await flink.vertexMetrics(jobId, v.id)).map((m) => m.id);
          if (this.names.size > NAME_CACHE_LIMIT) this.names.clear();
          // Flink lists nothing until its metric fetcher has first reached the TaskManagers: a list without the
          // busy time is asked for again, never kept (kept, it starved every later cycle of that vertex's metrics).
          if (!isSource(v) && names.includes('busyTimeMsPerSecond')) this.names.set(key, names);
        }
        const found = sourcePartitions(names);
        if (found) partitions[v.id] = found;
        const query = metricsToQuery(v, names);
        vertexMetrics[v.id] = query.length > 0 ? await flink.vertexMetrics(jobId, v.id, query) : [];
      });
      const [jobManager, taskManagers] = await Promise.all([
        flink.jobManagerMetrics(['taskSlotsTotal', 'taskSlotsAvailable']),
        this.taskManagerMetrics(flink),
      ]);
      return buildSample(
        view,
        { details, vertexMetrics, jobManager, taskManagers },
        { busyTimeAggregator: c.busyTimeAggregator, partitions },
        now,
      );
    } catch (err) {
      if (this.signal?.aborted) throw err;
      if (budget.aborted) return { incomplete: `collecting metrics took longer than its budget of ${budgetMs} ms` };
      return { incomplete: `metrics could not be read: ${(err as Error).message}` };
    }
  }

  /** Flink answers nothing when one asked name is unknown; the GC metric exists from 1.19 (FLINK-33318). */
  private async taskManagerMetrics(flink: FlinkRestClient): Promise<AggregatedMetric[]> {
    const withGc = await flink.taskManagerMetrics([...TM_METRICS, GC_METRIC]);
    return withGc.length > 0 ? withGc : flink.taskManagerMetrics(TM_METRICS);
  }
}

async function inPool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
