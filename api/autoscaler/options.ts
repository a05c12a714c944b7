// Every `job.autoscaler.*` key, declared once with upstream's defaults (AutoScalerOptions): each also answers to its
// older `kubernetes.operator.job.autoscaler.*` name, and may be set per resource or operator-wide. `acted` says
// whether this operator acts on it yet; admission warns about the keys it reads but does not act on.
import type { FlatConfig } from '../flink-config.js';
import { excludedPeriodsProblem } from './excluded-periods.js';
import { duration, flag, integer, option, text, type OperatorOption, type OptionBase } from '../operator-options.js';

type AutoscalerOption<T> = OperatorOption<T> & { acted: boolean };

const PREFIX = 'job.autoscaler.';
const LEGACY_PREFIX = 'kubernetes.operator.job.autoscaler.';

type Declared<T> = Omit<OptionBase<T>, 'key' | 'perResource' | 'deprecatedKeys'> & {
  name: string;
  older?: string[];
  acted?: boolean;
};

/** The key, its legacy name and each older name's legacy name, as upstream's autoScalerConfig() declares them. */
function named<T>(d: Declared<T>, made: (o: OptionBase<T> & { shownDefault: string }) => OperatorOption<T>) {
  const { name, older = [], acted = true, ...rest } = d;
  const deprecatedKeys = [LEGACY_PREFIX + name, ...older.flatMap((o) => [PREFIX + o, LEGACY_PREFIX + o])];
  return { ...made({ ...rest, key: PREFIX + name, deprecatedKeys, perResource: true }), acted };
}

const dur = (d: Declared<number>): AutoscalerOption<number> => named(d, duration);
const on = (d: Omit<Declared<boolean>, 'shownDefault'>): AutoscalerOption<boolean> =>
  named({ ...d, shownDefault: String(d.defaultValue) }, flag);
const whole = (d: Omit<Declared<number>, 'shownDefault'>): AutoscalerOption<number> =>
  named({ ...d, shownDefault: String(d.defaultValue) }, integer);
const words = (d: Omit<Declared<string | undefined>, 'shownDefault'>): AutoscalerOption<string | undefined> =>
  named({ ...d, shownDefault: d.defaultValue ?? '(none)' }, text);
const decimal = (
  d: Omit<Declared<number>, 'shownDefault'> & { min?: number; max?: number },
): AutoscalerOption<number> => {
  const { min = 0, max = Infinity, ...rest } = d;
  const range = max === Infinity ? `a number of at least ${min}` : `a number from ${min} to ${max}`;
  return named({ ...rest, shownDefault: String(d.defaultValue) }, (o) => ({
    ...o,
    parse: (t) => {
      const n = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(t) ? Number(t) : NaN;
      return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
    },
    expects: range,
  }));
};
const oneOf = <V extends string>(d: Omit<Declared<V>, 'shownDefault'> & { values: readonly V[] }) => {
  const { values, ...rest } = d;
  return named<V>({ ...rest, shownDefault: d.defaultValue }, (o) => ({
    ...o,
    parse: (t) => values.find((v) => v === t.trim().toUpperCase()),
    expects: `one of ${values.join(', ')}`,
  }));
};
/** Undefined unless set: upstream derives these from others when absent. */
const optionalFraction = (d: Omit<Declared<number | undefined>, 'shownDefault' | 'defaultValue'>) =>
  named<number | undefined>({ ...d, defaultValue: undefined, shownDefault: '(none)' }, (o) => ({
    ...o,
    parse: (t) => {
      const n = Number(t);
      return t.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
    },
    expects: 'a number from 0 to 1',
  }));

export const AUTOSCALER_OPTIONS = {
  enabled: on({ name: 'enabled', defaultValue: false, description: 'Turns the autoscaler on for the job.' }),
  scalingEnabled: on({
    name: 'scaling.enabled',
    defaultValue: true,
    description: 'False: recommend only (a dry run) — decisions are shown, nothing is changed.',
  }),
  metricsWindow: dur({
    name: 'metrics.window',
    defaultValue: 15 * 60_000,
    shownDefault: '15 min',
    description: 'The window metrics are averaged over; a decision needs a full one.',
  }),
  stabilizationInterval: dur({
    name: 'stabilization.interval',
    defaultValue: 5 * 60_000,
    shownDefault: '5 min',
    description: 'After the job (re)starts, samples are not counted towards the window for this long.',
  }),
  targetUtilization: decimal({
    name: 'utilization.target',
    older: ['target.utilization'],
    defaultValue: 0.7,
    max: 1,
    description: 'The busy ratio parallelism is sized for.',
  }),
  utilizationMax: optionalFraction({
    name: 'utilization.max',
    description: 'Scale up only when a vertex lacks capacity at this busy ratio (default target + boundary).',
  }),
  utilizationMin: optionalFraction({
    name: 'utilization.min',
    description: 'Scale down only when a vertex has spare capacity at this busy ratio (default target − boundary).',
  }),
  utilizationBoundary: decimal({
    name: 'target.utilization.boundary',
    defaultValue: 0.3,
    max: 1,
    description: 'The ± band around the target when utilization.max and .min are not set (deprecated upstream).',
  }),
  catchUpDuration: dur({
    name: 'catch-up.duration',
    defaultValue: 30 * 60_000,
    shownDefault: '30 min',
    description: 'Time to process the lag and what accrues during a restart; 0 sizes for the input rate alone.',
  }),
  restartTime: dur({
    name: 'restart.time',
    defaultValue: 5 * 60_000,
    shownDefault: '5 min',
    description: 'The expected restart time, whose accrued input must be caught up.',
  }),
  restartTimeTracking: on({
    name: 'restart.time-tracking.enabled',
    defaultValue: false,
    description: 'Use the observed restart times instead of restart.time.',
  }),
  restartTimeTrackingLimit: dur({
    name: 'restart.time-tracking.limit',
    defaultValue: 15 * 60_000,
    shownDefault: '15 min',
    description: 'The most an observed restart time counts for.',
  }),
  scaleDownInterval: dur({
    name: 'scale-down.interval',
    older: ['scale-up.grace-period'],
    defaultValue: 60 * 60_000,
    shownDefault: '1 h',
    description:
      'A scale-down waits this long, then takes the highest recommendation of the interval; 0 scales down at once.',
  }),
  scaleDownMaxFactor: decimal({
    name: 'scale-down.max-factor',
    defaultValue: 0.6,
    max: 1,
    description: 'The largest share of its parallelism a vertex gives up in one step.',
  }),
  scaleUpMaxFactor: decimal({
    name: 'scale-up.max-factor',
    defaultValue: 100000,
    description: 'The largest relative increase of one step.',
  }),
  vertexMinParallelism: whole({
    name: 'vertex.min-parallelism',
    defaultValue: 1,
    description: 'No vertex is scaled below this (a vertex already below stays).',
  }),
  vertexMaxParallelism: whole({
    name: 'vertex.max-parallelism',
    defaultValue: 200,
    description: 'No vertex is scaled above this, nor above its own max parallelism (one already above stays).',
  }),
  backlogLagThreshold: dur({
    name: 'backlog-processing.lag-threshold',
    defaultValue: 5 * 60_000,
    shownDefault: '5 min',
    description: 'A source this far behind (in time of input) makes the job catch up: no scale-down meanwhile.',
  }),
  observedTprLagThreshold: dur({
    name: 'observed-true-processing-rate.lag-threshold',
    defaultValue: 30_000,
    shownDefault: '30 s',
    description: "The lag at which a source's rate is taken as its observed processing rate.",
  }),
  observedTprSwitchThreshold: decimal({
    name: 'observed-true-processing-rate.switch-threshold',
    defaultValue: 0.15,
    description: 'Use the observed rate when the busy-time estimate exceeds it by more than this share.',
  }),
  observedTprMinObservations: whole({
    name: 'observed-true-processing-rate.min-observations',
    defaultValue: 2,
    description: 'Samples needed before the observed rate is used.',
  }),
  busyTimeAggregator: oneOf({
    name: 'metrics.busy-time.aggregator',
    defaultValue: 'MAX',
    values: ['AVG', 'MAX', 'MIN'] as const,
    description: "How subtasks' busy times make a vertex's: MAX sizes for the busiest subtask (skew).",
  }),
  effectivenessDetection: on({
    name: 'scaling.effectiveness.detection.enabled',
    defaultValue: false,
    description: 'Block a scale-up after one that did not raise the processing rate as expected.',
  }),
  effectivenessThreshold: decimal({
    name: 'scaling.effectiveness.threshold',
    defaultValue: 0.1,
    description: 'The share of the expected gain a scale-up must bring to count as effective.',
  }),
  historyMaxCount: whole({
    name: 'history.max.count',
    defaultValue: 3,
    description: 'Scaling decisions kept per vertex.',
  }),
  historyMaxAge: dur({
    name: 'history.max.age',
    defaultValue: 24 * 3_600_000,
    shownDefault: '1 d',
    description: 'How long a scaling decision is kept.',
  }),
  eventInterval: dur({
    name: 'scaling.event.interval',
    defaultValue: 30 * 60_000,
    shownDefault: '30 min',
    description: 'A repeated recommendation event is emitted at most this often.',
  }),
  excludedPeriods: named<string | undefined>(
    {
      name: 'excluded.periods',
      defaultValue: undefined,
      shownDefault: '(none)',
      description:
        'Periods with no rescale, only recommendations: `;`-separated daily HH:mm:ss-HH:mm:ss windows and Quartz cron expressions (UTC).',
    },
    (o) => ({
      ...o,
      parse: (t) => (excludedPeriodsProblem(t) ? undefined : t),
      expects: '`;`-separated HH:mm:ss-HH:mm:ss windows or cron expressions',
    }),
  ),
  excludedVertices: words({
    name: 'vertex.exclude.ids',
    defaultValue: undefined,
    description: 'Job vertex ids (hex, comma-separated) never scaled.',
  }),
  restTimeout: dur({
    name: 'flink.rest-client.timeout',
    defaultValue: 10_000,
    shownDefault: '10 s',
    description: 'The deadline of each metrics call to Flink.',
  }),
  gcPressureThreshold: decimal({
    name: 'memory.gc-pressure.threshold',
    defaultValue: 1,
    max: 1,
    description: 'No scaling while a TaskManager spends more than this share of its time collecting garbage.',
  }),
  heapUsageThreshold: decimal({
    name: 'memory.heap-usage.threshold',
    defaultValue: 1,
    max: 1,
    description: 'No scaling while the TaskManagers use more than this share of their heap.',
  }),
  memoryTuning: on({
    name: 'memory.tuning.enabled',
    defaultValue: false,
    acted: false,
    description: 'Apply the memory recommendation.',
  }),
  memoryTuningOverhead: decimal({
    name: 'memory.tuning.overhead',
    defaultValue: 0.2,
    acted: false,
    description: 'Headroom over the observed heap and metaspace.',
  }),
  maximizeManagedMemory: on({
    name: 'memory.tuning.maximize-managed-memory',
    defaultValue: false,
    acted: false,
    description: 'Give saved memory to managed memory.',
  }),
  scaleDownCompensation: on({
    name: 'memory.tuning.scale-down-compensation.enabled',
    defaultValue: true,
    acted: false,
    description: 'Grow the heap of each TaskManager when TaskManagers are removed.',
  }),
  quotaCpu: words({ name: 'quota.cpu', defaultValue: undefined, acted: false, description: 'A CPU quota.' }),
  quotaMemory: words({ name: 'quota.memory', defaultValue: undefined, acted: false, description: 'A memory quota.' }),
  observedScalability: on({
    name: 'observed-scalability.enabled',
    defaultValue: false,
    acted: false,
    description: 'Correct the scaling factor by how well the vertex scaled before.',
  }),
  observedScalabilityMinObservations: whole({
    name: 'observed-scalability.min-observations',
    defaultValue: 3,
    acted: false,
    description: 'Observations needed to fit the scalability coefficient.',
  }),
  observedScalabilityCoefficientMin: decimal({
    name: 'observed-scalability.coefficient-min',
    defaultValue: 0.5,
    max: 1,
    acted: false,
    description: 'The lowest scalability coefficient used.',
  }),
  alignmentMode: oneOf({
    name: 'scaling.key-group.partitions.adjust.mode',
    defaultValue: 'EVENLY_SPREAD',
    values: ['EVENLY_SPREAD', 'MAXIMIZE_UTILISATION'] as const,
    description: 'How a parallelism is aligned to the key groups or source partitions it divides.',
  }),
} as const;

type Options = typeof AUTOSCALER_OPTIONS;
export type AutoscalerConfig = { [K in keyof Options]: Options[K] extends OperatorOption<infer T> ? T : never };

/** Every autoscaler option's value in `conf` (defaults for what is absent or unreadable; admission reports those). */
export function autoscalerConfig(conf: FlatConfig): AutoscalerConfig {
  return Object.fromEntries(
    Object.entries(AUTOSCALER_OPTIONS).map(([name, opt]) => [name, option(conf, opt as OperatorOption<unknown>)]),
  ) as AutoscalerConfig;
}

/** The option a key names, by its key or an older name. */
export function autoscalerOptionFor(key: string): AutoscalerOption<unknown> | undefined {
  return (Object.values(AUTOSCALER_OPTIONS) as AutoscalerOption<unknown>[]).find(
    (o) => o.key === key || (o.deprecatedKeys ?? []).includes(key),
  );
}

export const autoscalerKeys = (): string[] => Object.values(AUTOSCALER_OPTIONS).map((o) => o.key);

export const isAutoscalerKey = (key: string): boolean => key.startsWith(PREFIX) || key.startsWith(LEGACY_PREFIX);

/** Upstream's bounds: `utilization.max` and `.min` default to target ± boundary, clamped to [0, 1]. */
export function utilizationBand(c: AutoscalerConfig): { min: number; target: number; max: number } {
  return {
    min: c.utilizationMin ?? Math.max(0, c.targetUtilization - c.utilizationBoundary),
    target: c.targetUtilization,
    max: c.utilizationMax ?? Math.min(1, c.targetUtilization + c.utilizationBoundary),
  };
}
