// One sample of a running job, made from what Flink's REST API answered (upstream's ScalingMetricCollector and
// ScalingMetrics, notes: shared/reference/autoscaler.md §1.2–1.3): the job's topology from `GET /jobs/:id`, and per
// vertex the metrics upstream stores under its ScalingMetric names. Pure: the operator fetches, this reads. A sample
// Flink itself marks incomplete, or with a busy time it could not measure, is refused with the reason — upstream
// takes such a sample at face value and has scaled down on zeros (FLINK-39925).
import { asObject, asString, type Json } from '../validation/access.js';

export interface VertexInfo {
  id: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
  /** Upstream vertices and how records reach this one from each (HASH, REBALANCE, FORWARD…). */
  inputs: { id: string; shipStrategy: string }[];
  outputs: string[];
  finished: boolean;
}

export interface Topology {
  /** In topological order: every vertex after its inputs. */
  vertices: VertexInfo[];
}

export const isSource = (v: VertexInfo): boolean => v.inputs.length === 0;

/** Upstream's ScalingMetric names, so that samples round-trip through its ConfigMap format. */
export type VertexMetrics = Partial<
  Record<
    | 'LOAD'
    | 'ACCUMULATED_BUSY_TIME'
    | 'NUM_RECORDS_IN'
    | 'NUM_RECORDS_OUT'
    | 'NUM_RECORDS_IN_PER_SECOND'
    | 'LAG'
    | 'OBSERVED_TPR'
    | 'PARALLELISM'
    | 'NUM_SOURCE_PARTITIONS',
    number
  >
>;

export type GlobalMetrics = Partial<
  Record<'GC_PRESSURE' | 'HEAP_MAX_USAGE_RATIO' | 'HEAP_MEMORY_USED' | 'NUM_TASK_SLOTS_USED', number>
>;

export interface Sample {
  /** Epoch ms. */
  time: number;
  vertexMetrics: Record<string, VertexMetrics>;
  globalMetrics: GlobalMetrics;
}

/** Flink's subtask-aggregated metric: `{id, min, max, avg, sum, skew}` (values may be absent). */
export interface AggregatedMetric {
  id: string;
  min?: number;
  max?: number;
  avg?: number;
  sum?: number;
}

export interface JobMetricsAnswers {
  /** `GET /jobs/:id`. */
  details: Json;
  /** `GET /jobs/:id/vertices/:vid/subtasks/metrics?get=…` per vertex id. */
  vertexMetrics: Record<string, AggregatedMetric[]>;
  /** `GET /jobmanager/metrics?get=taskSlotsTotal,taskSlotsAvailable`. */
  jobManager?: { id: string; value: string }[];
  /** `GET /taskmanagers/metrics?get=…&agg=max`. */
  taskManagers?: AggregatedMetric[];
}

export interface JobView {
  topology: Topology;
  /** `timestamps.RUNNING`: a later one than the window's first sample means the job restarted. */
  runningSince: number | undefined;
  state: string;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

/** The topology and the running timestamp from `GET /jobs/:id`; undefined while its plan is empty (starting). */
export function readJobDetails(details: Json): JobView | undefined {
  const vertices = Array.isArray(details.vertices) ? (details.vertices as unknown[]).map(asObject) : [];
  const nodes = asObject(details.plan)?.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0 || vertices.length === 0) return undefined;
  const inputs = new Map<string, VertexInfo['inputs']>();
  for (const node of nodes.map(asObject)) {
    const id = asString(node?.id);
    if (!id) continue;
    const ins = Array.isArray(node!.inputs) ? (node!.inputs as unknown[]).map(asObject) : [];
    inputs.set(
      id,
      ins.flatMap((i) =>
        asString(i?.id) ? [{ id: asString(i!.id)!, shipStrategy: asString(i!.ship_strategy) ?? '' }] : [],
      ),
    );
  }
  const infos: VertexInfo[] = vertices.flatMap((v) => {
    const id = asString(v?.id);
    if (!id) return [];
    return [
      {
        id,
        name: asString(v!.name) ?? id,
        parallelism: num(v!.parallelism),
        maxParallelism: num(v!.maxParallelism),
        inputs: inputs.get(id) ?? [],
        outputs: [],
        finished: v!.status === 'FINISHED',
      },
    ];
  });
  for (const v of infos) for (const i of v.inputs) infos.find((u) => u.id === i.id)?.outputs.push(v.id);
  const running = num(asObject(details.timestamps)?.RUNNING);
  return {
    topology: { vertices: topologicalOrder(infos) },
    runningSince: running > 0 ? running : undefined,
    state: asString(details.state) ?? 'UNKNOWN',
  };
}

function topologicalOrder(vertices: VertexInfo[]): VertexInfo[] {
  const done = new Set<string>();
  const out: VertexInfo[] = [];
  let pending = vertices;
  while (pending.length > 0) {
    const ready = pending.filter((v) => v.inputs.every((i) => done.has(i.id) || !vertices.some((u) => u.id === i.id)));
    if (ready.length === 0) return [...out, ...pending]; // a cycle Flink never builds: keep the rest as given
    for (const v of ready) done.add(v.id);
    out.push(...ready);
    pending = pending.filter((v) => !done.has(v.id));
  }
  return out;
}

/** The metric names to ask a vertex for, from the names it has (its unfiltered metrics list). */
export function metricsToQuery(vertex: VertexInfo, available: string[]): string[] {
  const wanted = ['busyTimeMsPerSecond'];
  if (isSource(vertex)) {
    wanted.push('backPressuredTimeMsPerSecond');
    const source = (suffix: string) => available.find((n) => n.startsWith('Source__') && n.endsWith(suffix));
    for (const suffix of ['.numRecordsInPerSecond', '.numRecordsIn', '.numRecordsOut', '.numRecordsOutPerSecond']) {
      const name = source(suffix);
      if (name) wanted.push(name);
    }
    wanted.push(...available.filter((n) => n.endsWith('.pendingRecords')));
  } else if (available.includes('numRecordsInPerSecond')) wanted.push('numRecordsInPerSecond');
  return wanted.filter((n) => available.includes(n));
}

/** Kafka's and Pulsar's per-partition metrics name their partitions: the count a source cannot usefully exceed. */
export function sourcePartitions(available: string[]): number | undefined {
  const kafka = /\.KafkaSourceReader\.(?:kafkaCluster\.(.+)\.)?topic\.(.+)\.partition\.(\d+)\.currentOffset$/;
  const pulsar = /\.PulsarConsumer\.(.+)-partition-(\d+)\..*\.numMsgsReceived$/;
  const seen = new Set<string>();
  for (const name of available) {
    const k = kafka.exec(name);
    if (k) seen.add(`k:${k[1] ?? ''}:${k[2]}:${k[3]}`);
    const p = pulsar.exec(name);
    if (p) seen.add(`p:${p[1]}:${p[2]}`);
  }
  return seen.size > 0 ? seen.size : undefined;
}

export type SampleResult = { sample: Sample } | { incomplete: string };

/**
 * The sample the answers make, or why they make none: a vertex whose IO counters Flink marks incomplete, a busy
 * time that is not a number, a required metric missing.
 */
export function buildSample(
  view: JobView,
  answers: JobMetricsAnswers,
  options: { busyTimeAggregator: 'AVG' | 'MAX' | 'MIN'; partitions?: Record<string, number> },
  now: number,
): SampleResult {
  const io = new Map<string, Json>();
  for (const v of Array.isArray(answers.details.vertices) ? (answers.details.vertices as unknown[]) : []) {
    const id = asString(asObject(v)?.id);
    if (id) io.set(id, asObject(asObject(v)?.metrics) ?? {});
  }
  const vertexMetrics: Record<string, VertexMetrics> = {};
  for (const v of view.topology.vertices) {
    const counters = io.get(v.id) ?? {};
    if (!v.finished && (counters['read-records-complete'] === false || counters['write-records-complete'] === false))
      return { incomplete: `Flink reports the record counters of ${v.name} incomplete` };
    const metrics = new Map((answers.vertexMetrics[v.id] ?? []).map((m) => [m.id, m]));
    const pick = (match: (id: string) => boolean) => [...metrics.values()].filter((m) => match(m.id));
    const busy = metrics.get('busyTimeMsPerSecond');
    const busyMs = v.finished ? 0 : aggregate(busy, options.busyTimeAggregator);
    if (!Number.isFinite(busyMs)) return { incomplete: `Flink reports no busy time for ${v.name}` };
    const m: VertexMetrics = {
      LOAD: round(Math.max(0, busyMs) / 1000),
      ACCUMULATED_BUSY_TIME: num(counters['accumulated-busy-time']),
      NUM_RECORDS_OUT: num(counters['write-records']),
      PARALLELISM: v.parallelism,
    };
    let recordsIn = num(counters['read-records']);
    if (isSource(v)) {
      const sum = (suffix: string) =>
        pick((id) => id.startsWith('Source__') && id.endsWith(suffix)).reduce((s, x) => s + (x.sum ?? 0), 0);
      if (!(recordsIn > 0)) recordsIn = sum('.numRecordsIn') || sum('.numRecordsOut');
      const inPerSecond = sum('.numRecordsInPerSecond') || sum('.numRecordsOutPerSecond');
      const pending = pick((id) => id.endsWith('.pendingRecords'));
      m.LAG = pending.reduce((s, x) => s + (x.sum ?? 0), 0);
      m.NUM_RECORDS_IN_PER_SECOND = round(inPerSecond);
      const backPressure = metrics.get('backPressuredTimeMsPerSecond')?.avg ?? 0;
      if (inPerSecond === 0) m.OBSERVED_TPR = Infinity;
      else if (backPressure < 1000) m.OBSERVED_TPR = round(inPerSecond / (1 - backPressure / 1000));
      const partitions = options.partitions?.[v.id];
      if (partitions) m.NUM_SOURCE_PARTITIONS = partitions;
    } else {
      const inPerSecond = metrics.get('numRecordsInPerSecond')?.sum;
      if (inPerSecond !== undefined) m.NUM_RECORDS_IN_PER_SECOND = round(inPerSecond);
    }
    m.NUM_RECORDS_IN = recordsIn;
    if (!Number.isFinite(recordsIn) || !Number.isFinite(m.NUM_RECORDS_OUT!))
      return { incomplete: `Flink reports no record counts for ${v.name}` };
    vertexMetrics[v.id] = m;
  }
  return { sample: { time: now, vertexMetrics, globalMetrics: globalMetrics(answers) } };
}

function aggregate(m: AggregatedMetric | undefined, how: 'AVG' | 'MAX' | 'MIN'): number {
  const v = how === 'AVG' ? m?.avg : how === 'MIN' ? m?.min : m?.max;
  return typeof v === 'number' ? v : NaN;
}

function globalMetrics(answers: JobMetricsAnswers): GlobalMetrics {
  const out: GlobalMetrics = {};
  const jm = new Map((answers.jobManager ?? []).map((m) => [m.id, Number(m.value)]));
  const total = jm.get('taskSlotsTotal');
  const available = jm.get('taskSlotsAvailable');
  if (total !== undefined && available !== undefined && Number.isFinite(total - available))
    out.NUM_TASK_SLOTS_USED = total - available;
  const tm = new Map((answers.taskManagers ?? []).map((m) => [m.id, m.max]));
  const gc = tm.get('Status.JVM.GarbageCollector.All.TimeMsPerSecond');
  if (gc !== undefined) out.GC_PRESSURE = round(gc / 1000);
  const heapMax = tm.get('Status.JVM.Memory.Heap.Max');
  const heapUsed = tm.get('Status.JVM.Memory.Heap.Used');
  if (heapMax && heapUsed !== undefined) {
    out.HEAP_MEMORY_USED = heapUsed;
    out.HEAP_MAX_USAGE_RATIO = round(heapUsed / heapMax);
  }
  return out;
}

/** Three decimals, never rounded down to zero (upstream keeps its ConfigMap small the same way). */
export function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const r = Math.round(x * 1000) / 1000;
  return r === 0 ? x : r;
}
