// The autoscaler's decision core on hand-computed cases — upstream's worked examples and the situations of its
// JobVertexScalerTest, ScalingMetricEvaluatorTest and DelayedScaleDownTest restated in our words — and its
// properties: monotone in demand, within its limits, no scale-down while catching up, no decision on bad data.
import { expect } from 'chai';
import fc from 'fast-check';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { autoscalerCycle, sampleSchedule } from '../../api/autoscaler/cycle.js';
import { decide, type AutoscalerHistory } from '../../api/autoscaler/decide.js';
import { autoscalerConfig, type AutoscalerConfig } from '../../api/autoscaler/options.js';
import {
  buildSample,
  readJobDetails,
  type Sample,
  type Topology,
  type VertexInfo,
  type VertexMetrics,
} from '../../api/autoscaler/sample.js';
import { decodeState, encodeState, emptyState, MAX_STATE_CHARS } from '../../api/autoscaler/state.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-08T00:00:00Z');

interface VertexLoad {
  id: string;
  p: number;
  maxP?: number;
  inputs?: { id: string; shipStrategy: string }[];
  /** Records/s in, busy ratio, lag now and its growth per second, source partitions. */
  rate: number;
  busy: number;
  lag?: number;
  lagRate?: number;
  partitions?: number;
}

function topologyOf(vs: VertexLoad[]): Topology {
  const vertices: VertexInfo[] = vs.map((v) => ({
    id: v.id,
    name: v.id,
    parallelism: v.p,
    maxParallelism: v.maxP ?? 720,
    inputs: v.inputs ?? [],
    outputs: vs.filter((u) => (u.inputs ?? []).some((i) => i.id === v.id)).map((u) => u.id),
    finished: false,
  }));
  return { vertices };
}

/** Two samples a window apart in which every vertex ran at the given load. */
function windowOf(vs: VertexLoad[], windowMs = 5 * MIN, end = T0): Sample[] {
  const at = (time: number, share: number): Sample => ({
    time,
    globalMetrics: {},
    vertexMetrics: Object.fromEntries(
      vs.map((v) => {
        const seconds = (share * windowMs) / 1000;
        const m: VertexMetrics = {
          LOAD: v.busy,
          NUM_RECORDS_IN: v.rate * seconds,
          NUM_RECORDS_OUT: v.rate * seconds,
          ACCUMULATED_BUSY_TIME: v.busy * 1000 * v.p * seconds,
          NUM_RECORDS_IN_PER_SECOND: v.rate,
          PARALLELISM: v.p,
        };
        if (!v.inputs?.length) {
          m.LAG = (v.lag ?? 0) - (v.lagRate ?? 0) * (1 - share) * (windowMs / 1000);
          m.OBSERVED_TPR = v.rate;
          if (v.partitions) m.NUM_SOURCE_PARTITIONS = v.partitions;
        }
        return [v.id, m];
      }),
    ),
  });
  return [at(end - windowMs, 0), at(end, 1)];
}

const config = (over: Record<string, string> = {}): AutoscalerConfig =>
  autoscalerConfig(Object.fromEntries(Object.entries(over).map(([k, v]) => [`job.autoscaler.${k}`, v])));
const noHistory = (): AutoscalerHistory => ({ scalingHistory: {}, delayedScaleDown: {} });

function decideFor(vs: VertexLoad[], over: Record<string, string> = {}, history = noHistory(), now = T0) {
  return decide(topologyOf(vs), windowOf(vs, 5 * MIN, now), history, config(over), now);
}

const vertex = (d: ReturnType<typeof decideFor>, id: string) => d.vertices.find((v) => v.id === id)!;

describe('autoscaler: the decision', () => {
  const hashed = [{ id: 'src', shipStrategy: 'HASH' }];
  /** Upstream's example A: a keyed map at parallelism 10, 50 % busy, target rate 50, no catch-up. */
  const halfBusyKeyedMap = (target: string) =>
    decideFor(
      [
        { id: 'src', p: 1, rate: 50, busy: 0.5 },
        { id: 'map', p: 10, rate: 50, busy: 0.5, inputs: hashed },
      ],
      { 'utilization.target': target, 'catch-up.duration': '0', 'scale-down.interval': '0' },
    );

  it('scales a keyed vertex at 50 % busy down by half at a 100 % target (upstream testParallelismScaling)', () => {
    const d = halfBusyKeyedMap('1.0');
    const map = vertex(d, 'map');
    expect(map.evaluation.trueProcessingRate).to.equal(100);
    expect(map.evaluation.scaleUpThreshold).to.equal(50);
    expect(map.evaluation.scaleDownThreshold).to.equal(71);
    expect(map.outside).to.equal('down');
    expect(d.outcome).to.equal('scale');
    expect(d.rescale).to.deep.equal({ src: 1, map: 5 });
  });

  it('at an 80 % target aligns 7 up to 8 (a divisor of 720) but leaves a vertex inside its band alone', () => {
    const d = halfBusyKeyedMap('0.8');
    const map = vertex(d, 'map');
    expect([map.unaligned, map.recommended]).to.deep.equal([7, 8]);
    expect(map.outside).to.equal(undefined);
    expect(map.blockedBy).to.equal('WithinBand');
    expect(d.outcome).to.equal('unchanged');
    expect(d.rescale).to.equal(undefined);
  });

  it('sizes a lagging source for its input, lag growth, catch-up and restart: 4 → 8 of 24 partitions (example B)', () => {
    const d = decideFor([{ id: 'src', p: 4, rate: 1000, busy: 1, lag: 60_000, lagRate: 200, partitions: 24 }]);
    const src = vertex(d, 'src');
    expect(Math.round(src.evaluation.targetRate)).to.equal(1200);
    expect(src.evaluation.scaleUpThreshold).to.equal(1233);
    expect(src.outside).to.equal('up');
    expect(src.recommended).to.equal(8);
    expect(src.expectedProcessingRate).to.equal(2000);
    expect(d.events.map((e) => e.reason)).to.deep.equal(['ScalingReport']);
    expect(d.events[0]!.message).to.contain('Parallelism 4 -> 8');
  });

  it('never gives a source more subtasks than it has partitions: 35 partitions, 40 wanted → 35', () => {
    const d = decideFor([{ id: 'src', p: 20, rate: 1000, busy: 1, lag: 600_000, lagRate: 1000, partitions: 35 }], {
      'catch-up.duration': '0',
    });
    expect(vertex(d, 'src').unaligned).to.be.greaterThan(35);
    expect(vertex(d, 'src').recommended).to.equal(35);
  });

  it('aligns a keyed scale-down to the next divisor of the key groups, no higher than it was: 720, 7 → 8', () => {
    const d = decideFor(
      [
        { id: 'src', p: 1, rate: 70, busy: 0.5 },
        { id: 'map', p: 10, rate: 70, busy: 0.48, inputs: hashed },
      ],
      { 'catch-up.duration': '0', 'scale-down.interval': '0' },
    );
    expect(vertex(d, 'map').unaligned).to.equal(7);
    expect(vertex(d, 'map').recommended).to.equal(8);
  });

  it('MAXIMIZE_UTILISATION takes the first parallelism that lowers the key groups per subtask: 128, 24 → 26', () => {
    const d = decideFor(
      [
        { id: 'src', p: 1, rate: 100, busy: 0.1 },
        { id: 'map', p: 12, rate: 100, busy: 1, maxP: 128, inputs: hashed },
      ],
      {
        'catch-up.duration': '0',
        'utilization.target': '0.5',
        'scaling.key-group.partitions.adjust.mode': 'MAXIMIZE_UTILISATION',
      },
    );
    expect(vertex(d, 'map').unaligned).to.equal(24);
    expect(vertex(d, 'map').recommended).to.equal(26);
  });

  it('delays a scale-down by scale-down.interval, then takes the highest recommendation of the interval', () => {
    const load = (busy: number): VertexLoad[] => [
      { id: 'src', p: 1, rate: 100, busy: 0.1 },
      { id: 'map', p: 10, rate: 100, busy, inputs: hashed },
    ];
    const over = { 'catch-up.duration': '0' };
    const first = decideFor(load(0.1), over, noHistory(), T0);
    expect(vertex(first, 'map')).to.include({
      recommended: 4,
      blockedBy: 'DelayedScaleDown',
      blockedUntil: T0 + 60 * MIN,
    });
    expect(first.outcome).to.equal('unchanged');
    const second = decideFor(load(0.5), over, first.history, T0 + 30 * MIN);
    expect(vertex(second, 'map')).to.include({ recommended: 8, blockedBy: 'DelayedScaleDown' });
    const third = decideFor(load(0.1), over, second.history, T0 + 61 * MIN);
    expect(third.outcome).to.equal('scale');
    expect(third.rescale).to.deep.equal({ src: 1, map: 8 });
  });

  it('a scale-up clears a pending scale-down and happens at once', () => {
    const quiet = decideFor([{ id: 'src', p: 4, rate: 100, busy: 0.1 }], { 'catch-up.duration': '0' });
    expect(quiet.history.delayedScaleDown).to.have.key('src');
    const busy = decideFor(
      [{ id: 'src', p: 4, rate: 1000, busy: 1, lag: 10_000, lagRate: 100 }],
      { 'catch-up.duration': '0' },
      quiet.history,
      T0 + MIN,
    );
    expect(busy.outcome).to.equal('scale');
    expect(busy.history.delayedScaleDown).to.deep.equal({});
  });

  it('reports a scale-up that did not raise the processing rate, and blocks the next when asked to', () => {
    const history: AutoscalerHistory = {
      scalingHistory: {
        src: {
          [T0 - 10 * MIN]: {
            currentParallelism: 2,
            newParallelism: 4,
            metrics: { TRUE_PROCESSING_RATE: { average: 1000 }, EXPECTED_PROCESSING_RATE: { current: 2000 } },
          },
        },
      },
      delayedScaleDown: {},
    };
    const load = [{ id: 'src', p: 4, rate: 1050, busy: 1, lag: 100_000, lagRate: 500 }];
    const told = decideFor(load, {}, history);
    expect(told.events.map((e) => e.reason)).to.include('IneffectiveScaling');
    expect(told.outcome).to.equal('scale');
    const blocked = decideFor(load, { 'scaling.effectiveness.detection.enabled': 'true' }, history);
    expect(vertex(blocked, 'src').blockedBy).to.equal('Ineffective');
    expect(blocked.outcome).to.equal('unchanged');
  });

  it('recommends without scaling in a dry run (scaling.enabled: false), the same parallelism as for real', () => {
    const load = [{ id: 'src', p: 4, rate: 1000, busy: 1, lag: 60_000, lagRate: 200, partitions: 24 }];
    const dry = decideFor(load, { 'scaling.enabled': 'false' });
    expect(dry.outcome).to.equal('recommend');
    expect(dry.rescale).to.equal(undefined);
    expect(vertex(dry, 'src')).to.include({ recommended: 8, blockedBy: 'DryRun' });
    expect(dry.events[0]!.message).to.match(/^Scaling execution disabled by config/);
  });

  it('recommends without scaling in an excluded period: a daily window across midnight, or a cron expression', () => {
    const load = [{ id: 'src', p: 4, rate: 1000, busy: 1, lag: 60_000, lagRate: 200, partitions: 24 }];
    const night = Date.parse('2026-12-08T23:30:00Z');
    const held = decideFor(load, { 'excluded.periods': '09:00:00-10:00:00;22:00:00-06:00:00' }, noHistory(), night);
    expect(held.outcome).to.equal('recommend');
    expect(vertex(held, 'src')).to.include({ recommended: 8, blockedBy: 'ExcludedPeriod' });
    expect(held.events[0]!.message).to.match(
      /^Scaling execution disabled by config job.autoscaler.excluded.periods:22:00:00-06:00:00, recommended/,
    );
    const weekday = Date.parse('2026-12-08T14:00:00Z'); // a Tuesday
    expect(decideFor(load, { 'excluded.periods': '* * 9-17 ? * MON-FRI' }, noHistory(), weekday).outcome).to.equal(
      'recommend',
    );
    expect(decideFor(load, { 'excluded.periods': '* * 9-17 ? * SAT,SUN' }, noHistory(), weekday).outcome).to.equal(
      'scale',
    );
    expect(decideFor(load, { 'excluded.periods': '22:00:00-06:00:00' }, noHistory(), weekday).outcome).to.equal(
      'scale',
    );
  });

  it('does not scale under memory pressure', () => {
    const vs = [{ id: 'src', p: 4, rate: 1000, busy: 1, lag: 60_000, lagRate: 200 }];
    const samples = windowOf(vs);
    samples[1]!.globalMetrics.GC_PRESSURE = 0.5;
    const d = decide(topologyOf(vs), samples, noHistory(), config({ 'memory.gc-pressure.threshold': '0.3' }), T0);
    expect(d.outcome).to.equal('unchanged');
    expect(vertex(d, 'src').blockedBy).to.equal('MemoryPressure');
    expect(d.events.map((e) => e.reason)).to.deep.equal(['MemoryPressure']);
  });

  it('leaves excluded vertices alone', () => {
    const d = decideFor([{ id: 'src', p: 4, rate: 1000, busy: 1, lag: 60_000, lagRate: 200 }], {
      'vertex.exclude.ids': 'src',
    });
    expect(vertex(d, 'src').blockedBy).to.equal('Excluded');
    expect(d.outcome).to.equal('unchanged');
  });

  describe('properties', () => {
    const load = fc.record({
      p: fc.integer({ min: 1, max: 50 }),
      rate: fc.double({ min: 1, max: 1e6, noNaN: true }),
      busy: fc.double({ min: 0.01, max: 1, noNaN: true }),
      lag: fc.double({ min: 0, max: 1e7, noNaN: true }),
      lagRate: fc.double({ min: -100, max: 1000, noNaN: true }),
    });
    const immediate = { 'scale-down.interval': '0' };

    const applied = (d: ReturnType<typeof decideFor>, p: number) => d.rescale?.s ?? p;

    it('is monotone in demand: a higher target rate never runs fewer subtasks', () => {
      fc.assert(
        fc.property(load, fc.double({ min: 0, max: 1e6, noNaN: true }), (l, more) => {
          const a = applied(decideFor([{ id: 's', ...l }], immediate), l.p);
          const b = applied(decideFor([{ id: 's', ...l, lagRate: l.lagRate + more }], immediate), l.p);
          return b >= a;
        }),
      );
    });

    it('stays within [min(p, vertex.min), min(maxParallelism, max(p, vertex.max))]', () => {
      fc.assert(
        fc.property(load, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 300 }), (l, lo, hi) => {
          const r = vertex(
            decideFor([{ id: 's', ...l, maxP: 128 }], {
              ...immediate,
              'vertex.min-parallelism': String(lo),
              'vertex.max-parallelism': String(hi),
            }),
            's',
          ).recommended;
          return r >= Math.min(l.p, lo) && r <= Math.min(128, Math.max(l.p, hi));
        }),
      );
    });

    it('never scales down while a source catches up a backlog', () => {
      fc.assert(
        fc.property(load, (l) => {
          const backlog = { ...l, lag: l.rate * 3600 };
          return applied(decideFor([{ id: 's', ...backlog }], immediate), l.p) >= l.p;
        }),
      );
    });
  });
});

describe('autoscaler: samples and the window', () => {
  const details = (over: Record<string, unknown> = {}, running = T0 - 30 * MIN) => ({
    jid: 'j',
    state: 'RUNNING',
    timestamps: { RUNNING: running },
    vertices: [
      {
        id: 'a',
        name: 'Source: numbers',
        parallelism: 1,
        maxParallelism: 128,
        status: 'RUNNING',
        metrics: {
          'read-records': 0,
          'read-records-complete': true,
          'write-records': 500,
          'write-records-complete': true,
          'accumulated-busy-time': 10,
        },
      },
      {
        id: 'b',
        name: 'Map',
        parallelism: 2,
        maxParallelism: 128,
        status: 'RUNNING',
        metrics: {
          'read-records': 500,
          'read-records-complete': true,
          'write-records': 500,
          'write-records-complete': true,
          'accumulated-busy-time': 900,
          ...over,
        },
      },
    ],
    plan: { nodes: [{ id: 'a' }, { id: 'b', inputs: [{ id: 'a', ship_strategy: 'REBALANCE' }] }] },
  });
  const metrics = (busyB: number | string = 450) => ({
    a: [
      { id: 'busyTimeMsPerSecond', max: 10 },
      { id: 'backPressuredTimeMsPerSecond', avg: 0 },
      { id: 'Source__numbers.numRecordsInPerSecond', sum: 10 },
      { id: 'Source__numbers.numRecordsIn', sum: 500 },
    ],
    b: [{ id: 'busyTimeMsPerSecond', max: busyB as number }],
  });
  const view = readJobDetails(details())!;
  const opts = { busyTimeAggregator: 'MAX' as const };

  it('reads the topology and the per-vertex metrics upstream stores', () => {
    expect(view.topology.vertices.map((v) => [v.id, v.inputs.map((i) => i.shipStrategy)])).to.deep.equal([
      ['a', []],
      ['b', ['REBALANCE']],
    ]);
    const result = buildSample(view, { details: details(), vertexMetrics: metrics() }, opts, T0);
    expect('sample' in result && result.sample.vertexMetrics).to.deep.include({
      a: {
        LOAD: 0.01,
        ACCUMULATED_BUSY_TIME: 10,
        NUM_RECORDS_OUT: 500,
        PARALLELISM: 1,
        LAG: 0,
        NUM_RECORDS_IN_PER_SECOND: 10,
        OBSERVED_TPR: 10,
        NUM_RECORDS_IN: 500,
      },
    });
  });

  it('refuses a sample Flink marks incomplete, or without a busy time (FLINK-39925)', () => {
    const incomplete = buildSample(
      view,
      { details: details({ 'read-records-complete': false }), vertexMetrics: metrics() },
      opts,
      T0,
    );
    expect(incomplete).to.deep.equal({ incomplete: 'Flink reports the record counters of Map incomplete' });
    const nan = buildSample(view, { details: details(), vertexMetrics: metrics('NaN') }, opts, T0);
    expect(nan).to.deep.equal({ incomplete: 'Flink reports no busy time for Map' });
  });

  const cycleConfig = config({
    'stabilization.interval': '1 min',
    'metrics.window': '2 min',
    'scale-down.interval': '0',
    'utilization.max': '0.8',
  });
  const sampleAt = (time: number, records: number, busy = 0.9, busyTime = 1): Sample => ({
    time,
    globalMetrics: {},
    vertexMetrics: {
      a: {
        LOAD: 0.01,
        NUM_RECORDS_IN: records,
        NUM_RECORDS_OUT: records,
        ACCUMULATED_BUSY_TIME: 1,
        LAG: 0,
        PARALLELISM: 1,
      },
      b: {
        LOAD: busy,
        NUM_RECORDS_IN: records,
        NUM_RECORDS_OUT: records,
        ACCUMULATED_BUSY_TIME: busyTime,
        PARALLELISM: 2,
      },
    },
  });

  it('collects until the window is full, then decides; a counter going backwards starts the window again', () => {
    let state = emptyState();
    const run = (time: number, records: number) => {
      const r = autoscalerCycle({
        state,
        view,
        sample: { sample: sampleAt(time, records, 0.9, 1000 - records / 100) },
        config: cycleConfig,
        now: time,
      });
      state = r.state;
      return r;
    };
    expect(run(T0, 0).status.phase).to.equal('CollectingMetrics');
    expect(run(T0 + MIN, 6000).status.windowFullAt).to.equal(new Date(T0 + 2 * MIN).toISOString());
    expect(run(T0 + 1.5 * MIN, 10).status).to.include({ phase: 'CollectingMetrics' });
    expect(state.samples).to.have.length(1);
    run(T0 + 2.5 * MIN, 30_000);
    expect(state.samples, 'accumulated busy time that dips (as Flink 2.2 reports it) keeps the window').to.have.length(
      2,
    );
    const decided = run(T0 + 3.5 * MIN, 60_000);
    expect(decided.status.phase).to.equal('Rescaling');
    expect(decided.rescale).to.deep.equal({ a: 1, b: 3 });
    expect(state.overrides).to.deep.equal({ a: 1, b: 3 });
    expect(state.samples).to.deep.equal([]);
  });

  it('decides nothing on an incomplete sample and starts the window again; waits out stabilization', () => {
    const state = { ...emptyState(), samples: [sampleAt(T0 - MIN, 0)] };
    const r = autoscalerCycle({ state, view, sample: { incomplete: 'budget exceeded' }, config: cycleConfig, now: T0 });
    expect(r.status.phase).to.equal('MetricsIncomplete');
    expect(r.status.vertices!.every((v) => v.blockedBy === 'MetricsIncomplete')).to.equal(true);
    expect(r.state.samples).to.deep.equal([]);
    expect(r.rescale).to.equal(undefined);
    const young = readJobDetails(details({}, T0 - 10_000))!;
    const s = autoscalerCycle({
      state: emptyState(),
      view: young,
      sample: { sample: sampleAt(T0, 0) },
      config: cycleConfig,
      now: T0,
    });
    expect(s.status.phase).to.equal('Stabilizing');
    expect(s.status.windowFullAt).to.equal(new Date(T0 - 10_000 + 3 * MIN).toISOString());
  });

  it('measures how long a rescale took to run, and with tracking on sizes the restart term by it', () => {
    const rescaledAt = T0 - 10 * MIN;
    const after = readJobDetails(details({}, rescaledAt + 40_000))!;
    const state = { ...emptyState(), overrides: { a: 1, b: 2 }, tracking: [{ time: rescaledAt }] };
    const cycle = (s: typeof state) =>
      autoscalerCycle({ state: s, view: after, sample: { sample: sampleAt(T0, 0) }, config: cycleConfig, now: T0 });
    expect(cycle(state).state.tracking).to.deep.equal([{ time: rescaledAt, restartDuration: 40_000 }]);
    expect(
      cycle({ ...state, overrides: { a: 1, b: 4 } }).state.tracking,
      'not measured before every vertex runs at what was decided',
    ).to.deep.equal([{ time: rescaledAt }]);
    // A shorter measured restart than restart.time's 5 min asks for less catch-up capacity.
    const lagging = [{ id: 'src', p: 4, rate: 1000, busy: 1, lag: 60_000, lagRate: 200 }];
    const fiveMinutes = { 'catch-up.duration': '5 min' };
    const tracked = { ...config({ ...fiveMinutes, 'restart.time-tracking.enabled': 'true' }), restartTime: 40_000 };
    const withTracking = vertex(decide(topologyOf(lagging), windowOf(lagging), noHistory(), tracked, T0), 'src');
    expect([withTracking.recommended, vertex(decideFor(lagging, fiveMinutes), 'src').recommended]).to.deep.equal([
      9, 13,
    ]);
  });

  it('samples a running job at most once per half reconcile interval, within a budget of that half (1–10 s)', () => {
    const stored = encodeState({ ...emptyState(), samples: [sampleAt(T0, 0)] });
    const on = { enabled: true };
    expect(sampleSchedule(undefined, on, MIN, T0)).to.deep.equal({ due: true, budgetMs: 10_000 });
    expect(sampleSchedule(stored, on, MIN, T0 + 29_000).due).to.equal(false);
    expect(sampleSchedule(stored, on, MIN, T0 + 30_000).due).to.equal(true);
    expect(sampleSchedule(stored, { enabled: false }, MIN, T0 + MIN).due).to.equal(false);
    expect(sampleSchedule(stored, on, 4_000, T0).budgetMs).to.equal(2_000);
    expect(sampleSchedule(stored, on, 1_000, T0).budgetMs).to.equal(1_000);
  });

  it('drops a window from before a restart or a parallelism change', () => {
    const state = { ...emptyState(), samples: [sampleAt(T0 - 40 * MIN, 0)] };
    const r = autoscalerCycle({ state, view, sample: { sample: sampleAt(T0, 10) }, config: cycleConfig, now: T0 });
    expect(r.state.samples.map((s) => s.time)).to.deep.equal([T0]);
  });
});

describe('autoscaler: the state ConfigMap', () => {
  it('round-trips in upstream keys and formats', () => {
    const state = {
      samples: [
        { time: T0, vertexMetrics: { a: { LOAD: 0.5, NUM_RECORDS_IN: 10 } }, globalMetrics: { GC_PRESSURE: 0 } },
      ],
      history: {
        scalingHistory: {
          a: { [T0]: { currentParallelism: 1, newParallelism: 2, metrics: { TRUE_PROCESSING_RATE: { average: 3 } } } },
        },
        delayedScaleDown: {
          a: {
            firstTriggerTime: T0,
            recommendedParallelisms: [{ triggerTime: T0, parallelism: 1, outsideUtilizationBound: true }],
          },
        },
      },
      overrides: { b: 4, a: 2 },
      tracking: [{ time: T0 - MIN, restartDuration: 12_500 }, { time: T0 }],
    };
    const data = encodeState(state);
    expect(Object.keys(data).sort()).to.deep.equal([
      'collectedMetrics',
      'delayedScaleDown',
      'parallelismOverrides',
      'scalingHistory',
      'scalingTracking',
    ]);
    expect(data.parallelismOverrides).to.equal('a:2,b:4');
    expect(Buffer.from(data.collectedMetrics!, 'base64').subarray(0, 2)).to.deep.equal(Buffer.from([0x1f, 0x8b]));
    expect(decodeState(data)).to.deep.equal({ state, unread: [] });
  });

  it("reads upstream's gzip + base64 YAML (Jackson's), infinities included; writes JSON, which YAML readers read", () => {
    const yaml = [
      '---',
      '"2026-12-08T00:00:00Z":',
      '  vertexMetrics:',
      '    ab12:',
      '      LOAD: 0.5',
      '      OBSERVED_TPR: .inf',
      '  globalMetrics: {}',
      '',
    ].join('\n');
    const packed = gzipSync(Buffer.from(yaml)).toString('base64');
    const { state } = decodeState({ collectedMetrics: packed });
    expect(state.samples).to.deep.equal([
      { time: T0, vertexMetrics: { ab12: { LOAD: 0.5, OBSERVED_TPR: Infinity } }, globalMetrics: {} },
    ]);
    const written = gunzipSync(Buffer.from(encodeState(state).collectedMetrics!, 'base64')).toString();
    expect(parseYaml(written)).to.deep.equal({
      '2026-12-08T00:00:00.000Z': {
        vertexMetrics: { ab12: { LOAD: 0.5, OBSERVED_TPR: 'Infinity' } },
        globalMetrics: {},
      },
    });
    expect(decodeState(encodeState(state)).state.samples).to.deep.equal(state.samples);
  });

  it('reads what upstream wrote, drops a key that does not read, and trims samples to fit a ConfigMap', () => {
    const { state, unread } = decodeState({ parallelismOverrides: 'ab12:3,cd34:12', collectedMetrics: 'not gzip' });
    expect(state.overrides).to.deep.equal({ ab12: 3, cd34: 12 });
    expect(unread).to.have.length(1);
    const noisy = Array.from({ length: 4000 }, (_, i) => ({
      time: T0 + i,
      vertexMetrics: { [`v${i}`]: { LOAD: Math.random(), NUM_RECORDS_IN: Math.random() * 1e9 } },
      globalMetrics: {},
    }));
    const data = encodeState({ ...emptyState(), samples: noisy });
    const size = Object.values(data).reduce((n, v) => n + v.length, 0);
    expect(size).to.be.at.most(MAX_STATE_CHARS);
    const kept = decodeState(data).state.samples;
    expect(kept.at(-1)!.time).to.equal(T0 + 3999);
  });
});
