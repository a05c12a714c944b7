// The decision of one autoscaler cycle over a full window (upstream's JobVertexScaler and ScalingExecutor, reference
// §1.6–1.7): per vertex the parallelism its target rate asks for, bounded, aligned and delayed as upstream does it,
// and why it does or does not act — pure and replayable: the same inputs give the same decision.
import type { AUTOSCALER_BLOCKS } from '../schema/flink-resources.js';
import { capacity, evaluate, type Evaluation, type VertexEvaluation } from './evaluate.js';
import { excludedPeriod } from './excluded-periods.js';
import type { AutoscalerConfig } from './options.js';
import { isSource, type Sample, type Topology, type VertexInfo } from './sample.js';

/** Why a vertex is not (or not yet) at its recommendation; shown in status and by `kubectl flink autoscaler`. */
export type BlockedBy = (typeof AUTOSCALER_BLOCKS)[number];

export interface ScalingSummary {
  currentParallelism: number;
  newParallelism: number;
  metrics: Partial<
    Record<
      'TRUE_PROCESSING_RATE' | 'EXPECTED_PROCESSING_RATE' | 'TARGET_DATA_RATE',
      { current?: number; average?: number }
    >
  >;
}

/** Per vertex, its past scalings by time (epoch ms). */
export type ScalingHistory = Record<string, Record<number, ScalingSummary>>;

export interface DelayedScaleDown {
  firstTriggerTime: number;
  recommendedParallelisms: { triggerTime: number; parallelism: number; outsideUtilizationBound: boolean }[];
}

export interface AutoscalerHistory {
  scalingHistory: ScalingHistory;
  delayedScaleDown: Record<string, DelayedScaleDown>;
}

export interface VertexDecision {
  id: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
  /** What the vertex should run at; its parallelism when nothing changes. */
  recommended: number;
  /** Before alignment to key groups or partitions, when alignment moved it. */
  unaligned?: number;
  partitions?: number;
  evaluation: VertexEvaluation;
  /** Outside the utilisation band: lacking capacity (up) or with capacity to spare (down). */
  outside?: 'up' | 'down';
  expectedProcessingRate?: number;
  blockedBy?: BlockedBy;
  /** When a delayed scale-down may happen. */
  blockedUntil?: number;
}

export interface DecisionEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Decision {
  vertices: VertexDecision[];
  /** Every vertex's new parallelism, when the job is to be rescaled now. */
  rescale?: Record<string, number>;
  outcome: 'scale' | 'recommend' | 'unchanged';
  message: string;
  backlog: boolean;
  events: DecisionEvent[];
  history: AutoscalerHistory;
}

export function decide(
  topology: Topology,
  samples: Sample[],
  history: AutoscalerHistory,
  c: AutoscalerConfig,
  now: number,
): Decision {
  const evaluation = evaluate(topology, samples, c);
  const excluded = new Set(
    (c.excludedVertices ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const delayed = structuredClone(history.delayedScaleDown);
  const events: DecisionEvent[] = [];
  const vertices = topology.vertices.map((v) =>
    decideVertex(v, evaluation, samples, history.scalingHistory, delayed, c, now, excluded, events),
  );
  // A vertex held back (a delayed scale-down, an ineffective scale-up) shows its recommendation but does not move.
  const changed = vertices.filter((v) => v.recommended !== v.parallelism && !v.blockedBy);
  const base = { vertices, backlog: evaluation.backlog, events };
  const unchanged = (message: string, blockedBy?: BlockedBy): Decision => {
    if (blockedBy) for (const v of changed) v.blockedBy = blockedBy;
    return { ...base, outcome: 'unchanged', message, history: { ...history, delayedScaleDown: delayed } };
  };
  if (changed.length === 0) return unchanged(summary(vertices));
  if (!changed.some((v) => v.outside)) return unchanged('All vertex processing rates are within target', 'WithinBand');
  const pressure = memoryPressure(evaluation, c);
  if (pressure) {
    events.push({ type: 'Normal', reason: 'MemoryPressure', message: pressure });
    return unchanged(pressure, 'MemoryPressure');
  }
  const report = changed.map(
    (v) =>
      `{ Vertex ID ${v.id} | Parallelism ${v.parallelism} -> ${v.recommended} | Processing capacity ${fixed(v.evaluation.trueProcessingRate)} -> ${fixed(v.expectedProcessingRate ?? NaN)} | Target data rate ${fixed(v.evaluation.targetRate)}}`,
  );
  // Recommend only: a dry run, or a period in which the user wants no rescale.
  const period = excludedPeriod(c.excludedPeriods, now);
  const held = !c.scalingEnabled
    ? { blockedBy: 'DryRun' as const, by: 'job.autoscaler.scaling.enabled:false', why: 'Dry run' }
    : period
      ? {
          blockedBy: 'ExcludedPeriod' as const,
          by: `job.autoscaler.excluded.periods:${period}`,
          why: `Excluded period ${period}`,
        }
      : undefined;
  if (held) {
    for (const v of changed) v.blockedBy = held.blockedBy;
    events.push({
      type: 'Normal',
      reason: 'ScalingReport',
      message: `Scaling execution disabled by config ${held.by}, recommended parallelism change: ${report.join('')}`,
    });
    return {
      ...base,
      outcome: 'recommend',
      message: `${held.why}: would rescale ${changed.map((v) => `${v.name} ${v.parallelism} → ${v.recommended}`).join(', ')}`,
      history: { ...history, delayedScaleDown: delayed },
    };
  }
  events.push({
    type: 'Normal',
    reason: 'ScalingReport',
    message: `Scaling execution enabled, begin scaling vertices: ${report.join('')}`,
  });
  return {
    ...base,
    rescale: Object.fromEntries(vertices.map((v) => [v.id, changed.includes(v) ? v.recommended : v.parallelism])),
    outcome: 'scale',
    message: `Rescaling ${changed.map((v) => `${v.name} ${v.parallelism} → ${v.recommended}`).join(', ')}`,
    history: { scalingHistory: withScalings(history.scalingHistory, changed, c, now), delayedScaleDown: {} },
  };
}

function decideVertex(
  v: VertexInfo,
  evaluation: Evaluation,
  samples: Sample[],
  scalingHistory: ScalingHistory,
  delayed: Record<string, DelayedScaleDown>,
  c: AutoscalerConfig,
  now: number,
  excluded: Set<string>,
  events: DecisionEvent[],
): VertexDecision {
  const e = evaluation.vertices.get(v.id)!;
  const partitions = samples.at(-1)!.vertexMetrics[v.id]?.NUM_SOURCE_PARTITIONS;
  const tpr = e.trueProcessingRate;
  const outside = tpr < e.scaleUpThreshold ? 'up' : tpr > e.scaleDownThreshold ? 'down' : undefined;
  const d: VertexDecision = {
    id: v.id,
    name: v.name,
    parallelism: v.parallelism,
    maxParallelism: v.maxParallelism,
    recommended: v.parallelism,
    evaluation: e,
    ...(outside ? { outside } : {}),
    ...(partitions ? { partitions } : {}),
  };
  const keep = (blockedBy: BlockedBy, until?: number) => {
    delete delayed[v.id];
    return { ...d, blockedBy, ...(until !== undefined ? { blockedUntil: until } : {}) };
  };
  if (excluded.has(v.id) || v.finished) return keep('Excluded');
  const target = capacity(e, c.targetUtilization, true, c);
  if (Number.isNaN(tpr) || Number.isNaN(target)) return keep('NoProcessingRate');
  const computed = boundedParallelism(v, target / tpr, c);
  const aligned = align(v, computed, partitions, c);
  if (aligned !== computed) d.unaligned = computed;
  if (aligned === v.parallelism) return keep(outside ? 'AtLimit' : 'WithinBand');
  d.expectedProcessingRate = Number.isFinite(tpr) ? (tpr / v.parallelism) * aligned : tpr;
  if (aligned > v.parallelism) {
    delete delayed[v.id];
    const ineffective = ineffectiveScaleUp(v, e, scalingHistory, c);
    if (ineffective) {
      events.push({
        type: 'Normal',
        reason: 'IneffectiveScaling',
        message: `Ineffective scaling detected for ${v.id} (expected increase: ${fixed(ineffective.expected)}, actual ${fixed(ineffective.actual)}). ${c.effectivenessDetection ? 'Blocking of ineffective scaling decisions is enabled.' : 'Blocking of ineffective scaling decisions is disabled.'}`,
      });
      if (c.effectivenessDetection) return { ...d, recommended: aligned, blockedBy: 'Ineffective' };
    }
    return { ...d, recommended: aligned };
  }
  return delayScaleDown(d, aligned, delayed, c, now);
}

/** Upstream's factor, clamped by the max factors, then by the vertex limits — which never force a change alone. */
export function boundedParallelism(v: VertexInfo, factor: number, c: AutoscalerConfig): number {
  const clamped = Math.min(Math.max(factor, 1 - c.scaleDownMaxFactor), 1 + c.scaleUpMaxFactor);
  const raw = Math.ceil(clamped * v.parallelism - 1e-9);
  const lower = Math.min(v.parallelism, c.vertexMinParallelism);
  const upperLimit = Math.max(v.parallelism, c.vertexMaxParallelism);
  const upper = v.maxParallelism > 0 ? Math.min(v.maxParallelism, upperLimit) : upperLimit;
  return Math.min(Math.max(raw, lower), upper);
}

/**
 * Aligns a parallelism to what it divides: a source's partitions (when its connector names them) — never more
 * subtasks than partitions — or, behind a keyed (HASH) input, the key groups (max parallelism). Upward to the first
 * divisor (EVENLY_SPREAD) or the first that lowers the share per subtask (MAXIMIZE_UTILISATION), no higher than the
 * current parallelism on a scale-down; when none is found, the computed value stays.
 */
export function align(v: VertexInfo, p: number, partitions: number | undefined, c: AutoscalerConfig): number {
  const keyed = v.inputs.some((i) => i.shipStrategy === 'HASH');
  const n = isSource(v) && partitions ? partitions : keyed ? v.maxParallelism : undefined;
  if (!n || n <= 0 || p === v.parallelism) return p;
  const capped = isSource(v) && partitions ? Math.min(p, partitions) : p;
  const limit = capped < v.parallelism ? v.parallelism : Math.min(n, Math.max(v.parallelism, c.vertexMaxParallelism));
  const share = (q: number) => Math.ceil(n / q);
  for (let q = capped; q <= limit; q++) {
    if (n % q === 0) return q;
    if (c.alignmentMode === 'MAXIMIZE_UTILISATION' && share(q) < share(capped)) return q;
  }
  return capped;
}

function ineffectiveScaleUp(
  v: VertexInfo,
  e: VertexEvaluation,
  scalingHistory: ScalingHistory,
  c: AutoscalerConfig,
): { expected: number; actual: number } | undefined {
  const entries = Object.entries(scalingHistory[v.id] ?? {}).sort(([a], [b]) => Number(a) - Number(b));
  const last = entries.at(-1)?.[1];
  if (!last || last.newParallelism !== v.parallelism || last.newParallelism <= last.currentParallelism)
    return undefined;
  const before = last.metrics.TRUE_PROCESSING_RATE?.average;
  const expected = last.metrics.EXPECTED_PROCESSING_RATE?.current;
  if (before === undefined || expected === undefined || !Number.isFinite(e.trueProcessingRate)) return undefined;
  const expectedGain = expected - before;
  const actualGain = e.trueProcessingRate - before;
  if (expectedGain <= 0 || actualGain / expectedGain >= c.effectivenessThreshold) return undefined;
  return { expected: expectedGain, actual: actualGain };
}

/**
 * A scale-down waits out scale-down.interval from its first trigger, then takes the highest recommendation of the
 * interval (upstream DelayedScaleDown, FLINK-36535): one quiet minute does not shrink a job sized for the peak.
 */
function delayScaleDown(
  d: VertexDecision,
  p: number,
  delayed: Record<string, DelayedScaleDown>,
  c: AutoscalerConfig,
  now: number,
): VertexDecision {
  if (c.scaleDownInterval <= 0) return { ...d, recommended: p };
  const entry = (delayed[d.id] ??= { firstTriggerTime: now, recommendedParallelisms: [] });
  entry.recommendedParallelisms = [
    ...entry.recommendedParallelisms.filter((r) => r.triggerTime > now - c.scaleDownInterval),
    { triggerTime: now, parallelism: p, outsideUtilizationBound: d.outside === 'down' },
  ];
  const until = entry.firstTriggerTime + c.scaleDownInterval;
  if (now < until) return { ...d, recommended: p, blockedBy: 'DelayedScaleDown', blockedUntil: until };
  const highest = Math.max(...entry.recommendedParallelisms.map((r) => r.parallelism));
  if (highest >= d.parallelism) {
    delete delayed[d.id];
    return { ...d, blockedBy: 'WithinBand' };
  }
  return { ...d, recommended: highest };
}

function memoryPressure(e: Evaluation, c: AutoscalerConfig): string | undefined {
  if (e.gcPressure !== undefined && e.gcPressure > c.gcPressureThreshold)
    return `GC pressure ${fixed(e.gcPressure)} is above ${c.gcPressureThreshold}: not scaling`;
  if (e.heapUsage !== undefined && e.heapUsage > c.heapUsageThreshold)
    return `Heap usage ${fixed(e.heapUsage)} is above ${c.heapUsageThreshold}: not scaling`;
  return undefined;
}

function withScalings(
  history: ScalingHistory,
  changed: VertexDecision[],
  c: AutoscalerConfig,
  now: number,
): ScalingHistory {
  const out = structuredClone(history);
  for (const v of changed) {
    const entries = { ...(out[v.id] ?? {}) };
    entries[now] = {
      currentParallelism: v.parallelism,
      newParallelism: v.recommended,
      metrics: {
        TRUE_PROCESSING_RATE: { average: v.evaluation.trueProcessingRate },
        EXPECTED_PROCESSING_RATE: { current: v.expectedProcessingRate ?? NaN },
        TARGET_DATA_RATE: { average: v.evaluation.targetRate },
      },
    };
    out[v.id] = trimHistory(entries, c, now);
  }
  return out;
}

export function trimHistory<T>(entries: Record<number, T>, c: AutoscalerConfig, now: number): Record<number, T> {
  const kept = Object.keys(entries)
    .map(Number)
    .filter((t) => t >= now - c.historyMaxAge)
    .sort((a, b) => a - b)
    .slice(-c.historyMaxCount);
  return Object.fromEntries(kept.map((t) => [t, entries[t]!]));
}

function summary(vertices: VertexDecision[]): string {
  const waiting = vertices.find((v) => v.blockedBy === 'DelayedScaleDown');
  if (waiting) return `Scale-down of ${waiting.name} delayed until ${new Date(waiting.blockedUntil!).toISOString()}`;
  const limited = vertices.find((v) => v.blockedBy === 'AtLimit');
  if (limited) return `${limited.name} is outside its band but at its parallelism limit`;
  return 'All vertex processing rates are within target';
}

export const fixed = (x: number): string =>
  Number.isFinite(x) ? (Math.round(x * 100) / 100).toString() : Number.isNaN(x) ? 'NaN' : x > 0 ? '∞' : '-∞';
