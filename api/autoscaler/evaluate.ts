// What a full window of samples says of each vertex (upstream's ScalingMetricEvaluator, reference §1.5): its input
// rate, busy ratio, true processing rate (records/s at 100 % busy), the rate it must sustain (its target), the
// catch-up rate its lag asks for, and the band of processing rates inside which it is left alone.
import { utilizationBand, type AutoscalerConfig } from './options.js';
import { isSource, type Sample, type Topology, type VertexInfo, type VertexMetrics } from './sample.js';

export interface VertexEvaluation {
  /** Records/s into the vertex over the window. */
  inputRate: number;
  /** Busy ratio 0–1 (the window's average of the configured aggregate). */
  load: number;
  /** Records/s the vertex would process at 100 % busy; +∞ when it processes nothing. */
  trueProcessingRate: number;
  /** Records/s the vertex must sustain: its sources' input plus their lag growth, through the graph. */
  targetRate: number;
  /** Extra records/s that drain the current lag within catch-up.duration. */
  catchUpRate: number;
  lag: number;
  /** Below this processing rate the vertex lacks capacity (scale up). */
  scaleUpThreshold: number;
  /** Above this processing rate it has capacity to spare (scale down). */
  scaleDownThreshold: number;
}

export interface Evaluation {
  vertices: Map<string, VertexEvaluation>;
  /** A source is so far behind that the job catches up: no scale-down, scale up at 100 % busy. */
  backlog: boolean;
  gcPressure: number | undefined;
  heapUsage: number | undefined;
}

type Metric = keyof VertexMetrics;

const seconds = (ms: number) => ms / 1000;

/** Records/s of an accumulated counter between the window's first and last samples. */
function rate(samples: Sample[], vid: string, metric: Metric): number {
  const first = samples[0]!.vertexMetrics[vid]?.[metric];
  const last = samples.at(-1)!.vertexMetrics[vid]?.[metric];
  const dt = seconds(samples.at(-1)!.time - samples[0]!.time);
  if (first === undefined || last === undefined || dt <= 0) return NaN;
  return (last - first) / dt;
}

/** The window's mean; infinities count only when every sample is infinite. */
function average(samples: Sample[], vid: string, metric: Metric): { value: number; count: number } {
  const values = samples.map((s) => s.vertexMetrics[vid]?.[metric]).filter((v): v is number => v !== undefined);
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { value: values.length > 0 ? values[0]! : NaN, count: values.length };
  return { value: finite.reduce((a, b) => a + b, 0) / finite.length, count: finite.length };
}

/** Records/s of capacity needed at busy ratio `u` (upstream AutoScalerUtils#getTargetProcessingCapacity). */
export function capacity(
  e: Pick<VertexEvaluation, 'targetRate' | 'catchUpRate'>,
  u: number,
  withRestart: boolean,
  c: Pick<AutoscalerConfig, 'restartTime' | 'catchUpDuration'>,
): number {
  const clamped = Math.max(0, Math.min(1, u));
  const restartCatchUp =
    withRestart && c.catchUpDuration > 0 ? (e.targetRate * seconds(c.restartTime)) / seconds(c.catchUpDuration) : 0;
  const base = clamped === 0 ? Infinity : e.targetRate / clamped;
  return Math.round(e.catchUpRate + restartCatchUp + base);
}

export function evaluate(topology: Topology, samples: Sample[], c: AutoscalerConfig): Evaluation {
  const vertices = new Map<string, VertexEvaluation>();
  const last = samples.at(-1)!;
  let backlog = false;
  for (const v of topology.vertices) {
    const inputRate = rate(samples, v.id, 'NUM_RECORDS_IN');
    const load =
      c.busyTimeAggregator === 'AVG'
        ? rate(samples, v.id, 'ACCUMULATED_BUSY_TIME') / 1000 / v.parallelism
        : average(samples, v.id, 'LOAD').value;
    // The records/s behind the processing rate: the window's counter rate, as upstream 1.15 has it. Upstream main
    // (FLINK-39306) takes Flink's per-second meter instead, which averages a minute: in a window that starts sooner
    // after a (re)start — an in-place rescale restarts the tasks — it reads low, and on the runner that made a job
    // whose load had dropped to nothing scale from 13 to 68.
    const tprInput = inputRate;
    let tpr = tprInput === 0 ? Infinity : tprInput / load;
    const lag = isSource(v) ? (last.vertexMetrics[v.id]?.LAG ?? 0) : 0;
    if (isSource(v)) {
      const observed = average(samples, v.id, 'OBSERVED_TPR');
      const catchingUp = lag >= seconds(c.observedTprLagThreshold) * tprInput;
      if (
        catchingUp &&
        observed.count >= c.observedTprMinObservations &&
        (!Number.isFinite(tpr) || tpr > observed.value * (1 + c.observedTprSwitchThreshold))
      )
        tpr = observed.value;
      if (inputRate > 0 && lag / inputRate > seconds(c.backlogLagThreshold)) backlog = true;
    }
    const { targetRate, catchUpRate } = isSource(v)
      ? {
          targetRate: Math.max(0, inputRate + (rate(samples, v.id, 'LAG') || 0)),
          catchUpRate: c.catchUpDuration > 0 ? lag / seconds(c.catchUpDuration) : 0,
        }
      : fromInputs(v, vertices, samples);
    vertices.set(v.id, {
      inputRate,
      load,
      trueProcessingRate: tpr,
      targetRate,
      catchUpRate,
      lag,
      scaleUpThreshold: NaN,
      scaleDownThreshold: NaN,
    });
  }
  const band = backlog ? { ...utilizationBand(c), min: 0, max: 1 } : utilizationBand(c);
  for (const e of vertices.values()) {
    e.scaleUpThreshold = capacity(e, band.max, false, c);
    e.scaleDownThreshold = capacity(e, band.min, true, c);
  }
  const gc = last.globalMetrics.GC_PRESSURE;
  const heaps = samples.map((s) => s.globalMetrics.HEAP_MAX_USAGE_RATIO).filter((h): h is number => h !== undefined);
  return {
    vertices,
    backlog,
    gcPressure: gc,
    heapUsage: heaps.length > 0 ? heaps.reduce((a, b) => a + b, 0) / heaps.length : undefined,
  };
}

/** A vertex's target: each input's target times the share of its output that reaches this vertex. */
function fromInputs(
  v: VertexInfo,
  done: Map<string, VertexEvaluation>,
  samples: Sample[],
): { targetRate: number; catchUpRate: number } {
  let targetRate = 0;
  let catchUpRate = 0;
  for (const input of v.inputs) {
    const upstream = done.get(input.id);
    if (!upstream) continue;
    const upstreamIn = rate(samples, input.id, 'NUM_RECORDS_IN');
    // One input: all this vertex reads came over this edge; else the upstream's own output rate (least precise).
    const edgeRate =
      v.inputs.length === 1 ? rate(samples, v.id, 'NUM_RECORDS_IN') : rate(samples, input.id, 'NUM_RECORDS_OUT');
    const ratio = upstreamIn > 0 && Number.isFinite(edgeRate) ? edgeRate / upstreamIn : 0;
    targetRate += upstream.targetRate * ratio;
    catchUpRate += upstream.catchUpRate * ratio;
  }
  return { targetRate, catchUpRate };
}
