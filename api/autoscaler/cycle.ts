// One autoscaler cycle of a running job, pure (reference §1.1, §1.4): the new sample joins the window — which
// restarts when the job restarted, its parallelism changed, a counter went backwards or a sample was incomplete —
// and once the window is full the decision is taken. Returns the state to keep, the status to show and the events.
import type { AutoscalerStatus, AutoscalerVertexStatus } from '../types.generated.js';
import { decide, type BlockedBy, type Decision, type DecisionEvent, type VertexDecision } from './decide.js';
import type { AutoscalerConfig } from './options.js';
import type { JobView, Sample, SampleResult } from './sample.js';
import { decodeState, type AutoscalerState } from './state.js';

type AutoscalerPhase = NonNullable<AutoscalerStatus['phase']>;

export interface CycleInput {
  state: AutoscalerState;
  view: JobView;
  /** The sample, or why there is none (a collection that failed or ran out of its budget). */
  sample: SampleResult;
  /** The status the last cycle wrote (its last dry-run report). */
  previous?: Pick<AutoscalerStatus, 'reported'>;
  config: AutoscalerConfig;
  now: number;
}

export interface CycleResult {
  state: AutoscalerState;
  status: AutoscalerStatus;
  events: DecisionEvent[];
  /** Set when the job is to run at new parallelisms. */
  rescale?: Record<string, number>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function autoscalerCycle(input: CycleInput): CycleResult {
  const { view, config: c, now } = input;
  const state = structuredClone(input.state);
  const vertexList = (blockedBy?: BlockedBy) =>
    view.topology.vertices.map((v) => ({
      id: v.id,
      name: v.name,
      parallelism: v.parallelism,
      ...(state.overrides[v.id] !== undefined ? { recommended: state.overrides[v.id] } : {}),
      ...(blockedBy ? { blockedBy } : {}),
    }));
  const waiting = (phase: AutoscalerPhase, message: string, blockedBy: BlockedBy, windowFullAt?: number) => ({
    state,
    events: [],
    status: {
      phase,
      message,
      ...(windowFullAt !== undefined ? { windowFullAt: iso(windowFullAt) } : {}),
      vertices: vertexList(blockedBy),
      ...(input.previous?.reported?.time
        ? { reported: input.previous.reported as { parallelism: string; time: string } }
        : {}),
    },
  });

  state.tracking = measuredRestarts(state, view);
  if (!sameRun(state.samples[0], view)) state.samples = [];
  if ('incomplete' in input.sample) {
    state.samples = [];
    return waiting(
      'MetricsIncomplete',
      `No decision: ${input.sample.incomplete}; the window starts again`,
      'MetricsIncomplete',
    );
  }
  const stableAt = (view.runningSince ?? 0) + c.stabilizationInterval;
  if (now < stableAt) {
    state.samples = [];
    return waiting(
      'Stabilizing',
      `The job is stabilizing until ${iso(stableAt)}; metrics count from then`,
      'Stabilizing',
      stableAt + c.metricsWindow,
    );
  }
  const sample = input.sample.sample;
  const previous = state.samples.at(-1);
  if (previous && wentBackwards(previous, sample)) state.samples = [];
  state.samples.push(sample);
  const windowFullAt = state.samples[0]!.time + c.metricsWindow;
  if (now < windowFullAt || state.samples.length < 2)
    return waiting(
      'CollectingMetrics',
      `Collecting metrics: ${state.samples.length} sample(s), window full at ${iso(windowFullAt)}`,
      'WindowNotFull',
      windowFullAt,
    );
  // Keep the newest sample at least a window old as the window's first: the window stays full from now on.
  const firstKept = state.samples.findLastIndex((s) => s.time <= now - c.metricsWindow);
  state.samples = state.samples.slice(Math.max(0, firstKept));

  const decision = decide(
    view.topology,
    state.samples,
    state.history,
    { ...c, restartTime: restartTime(state, c) },
    now,
  );
  state.history = decision.history;
  const reported = reportOf(decision, input.previous, c, now);
  const status: AutoscalerStatus = {
    phase: decision.outcome === 'scale' ? 'Rescaling' : decision.outcome === 'recommend' ? 'Recommending' : 'Evaluated',
    message: decision.message,
    lastEvaluationTime: iso(now),
    vertices: decision.vertices.map(vertexStatus),
    ...(reported.status ? { reported: reported.status } : {}),
  };
  if (!decision.rescale) return { state, status, events: reported.events };
  state.overrides = decision.rescale;
  state.samples = [];
  state.tracking = [...state.tracking, { time: now }].slice(-c.historyMaxCount);
  return { state, status, events: decision.events, rescale: decision.rescale };
}

/**
 * Restart-time tracking (upstream ScalingTracking, FLINK-30593): the last rescale took from its decision until the
 * job ran again, once every vertex runs at what was decided.
 */
function measuredRestarts(state: AutoscalerState, view: JobView): AutoscalerState['tracking'] {
  const last = state.tracking.at(-1);
  if (!last || last.restartDuration !== undefined || view.runningSince === undefined) return state.tracking;
  const applied = view.topology.vertices.every((v) => (state.overrides[v.id] ?? v.parallelism) === v.parallelism);
  if (!applied || view.runningSince < last.time) return state.tracking;
  return [...state.tracking.slice(0, -1), { ...last, restartDuration: view.runningSince - last.time }];
}

/** restart.time, or with tracking on the longest restart measured, at most restart.time-tracking.limit. */
function restartTime(state: AutoscalerState, c: AutoscalerConfig): number {
  const measured = state.tracking.flatMap((r) => (r.restartDuration === undefined ? [] : [r.restartDuration]));
  if (!c.restartTimeTracking || measured.length === 0) return c.restartTime;
  return Math.min(Math.max(...measured), c.restartTimeTrackingLimit);
}

/** The window belongs to this run of the job: same vertices at the same parallelism, not restarted since. */
function sameRun(first: Sample | undefined, view: JobView): boolean {
  if (!first) return true;
  if (view.runningSince !== undefined && view.runningSince > first.time) return false;
  const ids = Object.keys(first.vertexMetrics);
  return (
    ids.length === view.topology.vertices.length &&
    view.topology.vertices.every((v) => {
      const p = first.vertexMetrics[v.id]?.PARALLELISM;
      return p === undefined ? ids.includes(v.id) : p === v.parallelism;
    })
  );
}

/**
 * A record count smaller than before: the counts restarted (a failover), so rates across it are wrong. Not the
 * accumulated busy time: Flink 2.2 reports it from subtask metrics fetched at different moments, and it wobbles
 * down by design (seen on the real runner: 566 → 198 ms within seconds).
 */
function wentBackwards(before: Sample, after: Sample): boolean {
  return Object.entries(after.vertexMetrics).some(([vid, m]) => {
    const b = before.vertexMetrics[vid];
    return (['NUM_RECORDS_IN', 'NUM_RECORDS_OUT'] as const).some(
      (k) => b?.[k] !== undefined && m[k] !== undefined && Number.isFinite(b[k]) && m[k]! < b[k]!,
    );
  });
}

/** A dry run reports a recommendation when it changes, and again once scaling.event.interval has passed. */
function reportOf(
  decision: Decision,
  previous: CycleInput['previous'],
  c: AutoscalerConfig,
  now: number,
): { events: DecisionEvent[]; status?: AutoscalerStatus['reported'] } {
  if (decision.outcome !== 'recommend') return { events: decision.events.filter((e) => e.reason !== 'ScalingReport') };
  const parallelism = decision.vertices.map((v) => `${v.id}:${v.recommended}`).join(',');
  const last = previous?.reported;
  if (last?.time && last.parallelism === parallelism && now - Date.parse(last.time) < c.eventInterval)
    return {
      events: decision.events.filter((e) => e.reason !== 'ScalingReport'),
      status: { parallelism, time: last.time },
    };
  return { events: decision.events, status: { parallelism, time: iso(now) } };
}

const finite = (x: number | undefined) =>
  x !== undefined && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : undefined;

function vertexStatus(v: VertexDecision): AutoscalerVertexStatus {
  const e = v.evaluation;
  const out: AutoscalerVertexStatus = {
    id: v.id,
    name: v.name,
    parallelism: v.parallelism,
    recommended: v.recommended,
    maxParallelism: v.maxParallelism,
  };
  const numbers = {
    busyRatio: e.load,
    trueProcessingRate: e.trueProcessingRate,
    targetRate: e.targetRate,
    catchUpRate: e.catchUpRate,
    lag: e.lag,
    scaleUpThreshold: e.scaleUpThreshold,
    scaleDownThreshold: e.scaleDownThreshold,
    expectedProcessingRate: v.expectedProcessingRate,
  };
  for (const [k, x] of Object.entries(numbers)) {
    const f = finite(x);
    if (f !== undefined) (out as unknown as Record<string, number>)[k] = f;
  }
  if (v.partitions) out.partitions = v.partitions;
  if (v.unaligned !== undefined) out.unaligned = v.unaligned;
  if (v.blockedBy) out.blockedBy = v.blockedBy;
  if (v.blockedUntil !== undefined) out.blockedUntil = iso(v.blockedUntil);
  return out;
}

/**
 * Whether a running job is due a sample, and the budget its collection gets: one sample per half reconcile interval
 * at most (reconciles come sooner while anything else settles), collected within min(10 s, that half, ≥ 1 s).
 */
export function sampleSchedule(
  stored: Record<string, string> | undefined,
  c: Pick<AutoscalerConfig, 'enabled'>,
  reconcileMs: number,
  now: number,
): { due: boolean; budgetMs: number } {
  const last = stored ? decodeState(stored).state.samples.at(-1) : undefined;
  return {
    due: c.enabled && (!last || now - last.time >= reconcileMs / 2),
    budgetMs: Math.min(10_000, Math.max(1000, reconcileMs / 2)),
  };
}
