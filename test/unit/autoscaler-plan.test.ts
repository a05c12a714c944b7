// The autoscaler in the reconcile loop, without I/O: a decision becomes overrides in the spec acted on (never the
// user's), applied in place on the adaptive scheduler and confirmed from what Flink runs — or by one upgrade when it
// does not take, is refused, or the scheduler cannot; a dry run, a reset and turning it off.
import { expect } from 'chai';
import { encodeState, emptyState } from '../../api/autoscaler/state.js';
import { taskManagerReplicas } from '../../api/cluster/flink-configuration.js';
import type { JobView, Sample } from '../../api/autoscaler/sample.js';
import { FINALIZER, planDeployment, type Action, type Plan } from '../../api/reconcile/plan.js';
import type { Observation } from '../../api/reconcile/observe.js';
import { readSpecEnvelope, writeSpecEnvelope } from '../../api/spec-envelope.js';
import type { FlinkDeploymentStatus } from '../../api/types.generated.js';

const NOW = 1_800_000_000_000;
const JOB = 'a'.repeat(32);
const OVERRIDES = 'pipeline.jobvertex-parallelism-overrides';

const spec = (conf: Record<string, string> = {}, job: Record<string, unknown> = {}) => ({
  image: 'flink:2.2',
  flinkVersion: 'v2_2',
  serviceAccount: 'flink',
  flinkConfiguration: {
    'execution.checkpointing.dir': 'file:///cp',
    'job.autoscaler.enabled': 'true',
    'job.autoscaler.stabilization.interval': '0',
    'job.autoscaler.metrics.window': '1 min',
    'jobmanager.scheduler': 'adaptive',
    'execution.checkpointing.savepoint-dir': 'file:///sp',
    ...conf,
  },
  jobManager: { resource: { memory: '1g', cpu: 1 } },
  taskManager: { resource: { memory: '1g', cpu: 1 } },
  job: { jarURI: 'local:///job.jar', parallelism: 2, state: 'running', upgradeMode: 'savepoint', ...job },
});

const envelope = (s: Record<string, unknown>) =>
  writeSpecEnvelope({
    spec: { ...s, job: { ...(s.job as object), state: 'running' } },
    apiVersion: 'flink.apache.org/v1beta1',
    firstDeployment: false,
  });

function stable(deployed: Record<string, unknown>, extra: Partial<FlinkDeploymentStatus> = {}): FlinkDeploymentStatus {
  const text = envelope(deployed);
  return {
    jobManagerDeploymentStatus: 'READY',
    jobStatus: { jobId: JOB, state: 'RUNNING' },
    observedGeneration: 1,
    lifecycleState: 'STABLE',
    reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: text, lastStableSpec: text },
    ...extra,
  };
}

const view = (p: number): JobView => ({
  topology: {
    vertices: [
      { id: 'v1', name: 'Source', parallelism: p, maxParallelism: 128, inputs: [], outputs: [], finished: false },
    ],
  },
  runningSince: NOW - 3_600_000,
  state: 'RUNNING',
});

const sample = (time: number, records: number, lag: number, p = 2): Sample => ({
  time,
  globalMetrics: {},
  vertexMetrics: {
    v1: {
      LOAD: 1,
      NUM_RECORDS_IN: records,
      NUM_RECORDS_OUT: records,
      ACCUMULATED_BUSY_TIME: 0,
      NUM_RECORDS_IN_PER_SECOND: 1000,
      LAG: lag,
      PARALLELISM: p,
    },
  },
});

/** A window a minute long in which the source fell behind by 200 records/s at full busy: it asks for 2 → 4. */
function observation(p = 2, over: Partial<NonNullable<Observation['autoscaler']>> = {}, now = NOW): Observation {
  return {
    now,
    jobManager: { phase: 'present', generation: 1, available: true },
    rest: { reachable: true, jobs: [{ id: JOB, name: 'j', state: 'RUNNING', startTime: 1 }] },
    autoscaler: {
      stored: {
        data: encodeState({ ...emptyState(), samples: [sample(now - 61_000, 0, 0, p)] }),
        resourceVersion: '7',
      },
      view: view(p),
      sample: { sample: sample(now, 61_000, 12_200, p) },
      ...over,
    },
  };
}

const plan = (s: Record<string, unknown>, status: FlinkDeploymentStatus, o: Observation): Plan =>
  planDeployment({
    resource: {
      metadata: { name: 'orders', namespace: 'prod', uid: 'u', generation: 1, finalizers: [FINALIZER] },
      spec: s as never,
      status,
    },
    observation: o,
    operatorConfig: {},
    newJobId: 'b'.repeat(32),
  });

const kinds = (p: Plan) => p.actions.map((a) => a.kind);
const recordedConf = (p: Plan) =>
  (
    readSpecEnvelope(p.status.reconciliationStatus?.lastReconciledSpec)?.spec as {
      flinkConfiguration: Record<string, string>;
    }
  ).flinkConfiguration;
const action = <K extends Action['kind']>(p: Plan, kind: K) =>
  p.actions.find((a) => a.kind === kind) as Extract<Action, { kind: K }>;

describe('autoscaler in the reconcile loop', () => {
  it('rescales a running job in place: state saved, resource requirements asked for, the user spec untouched', () => {
    const user = spec();
    const p = plan(user, stable(user), observation());
    expect(kinds(p)).to.deep.equal(['save-autoscaler-state', 'rescale-in-place']);
    expect(action(p, 'save-autoscaler-state').data.parallelismOverrides).to.equal('v1:4');
    expect(action(p, 'rescale-in-place')).to.include({ jobId: JOB });
    expect(action(p, 'rescale-in-place').parallelism).to.deep.equal({ v1: 4 });
    expect(p.status.autoscaler).to.deep.include({ phase: 'Rescaling' });
    expect(p.status.autoscaler?.rescale).to.deep.include({
      parallelism: 'v1:4',
      requestedAt: new Date(NOW).toISOString(),
    });
    expect(p.events.map((e) => e.reason)).to.deep.equal(['ScalingReport', 'Scaling']);
    expect(user.flinkConfiguration).not.to.have.property(OVERRIDES);
    expect(p.status.reconciliationStatus?.state).to.equal('DEPLOYED');
  });

  const pending = (deployed: Record<string, unknown>, requestedAt = NOW - 5000, extra = {}) =>
    stable(deployed, {
      autoscaler: {
        phase: 'Rescaling',
        rescale: { parallelism: 'v1:4', requestedAt: new Date(requestedAt).toISOString(), ...extra },
      },
    });
  const stored = (o: Observation) => ({
    ...o,
    autoscaler: {
      ...o.autoscaler!,
      stored: { data: encodeState({ ...emptyState(), overrides: { v1: 4 } }), resourceVersion: '8' },
    },
  });
  const noSample = (o: Observation) => {
    const { sample: _, ...rest } = o.autoscaler!;
    return { ...o, autoscaler: rest };
  };

  it('waits for Flink to run the new parallelism, then records it without a restart and stays stable', () => {
    const user = spec();
    const waiting = plan(user, pending(user), noSample(stored(observation(2))));
    expect(kinds(waiting)).to.deep.equal([]);
    expect(waiting.requeueAfterMs).to.equal(2000);
    const applied = plan(user, pending(user), noSample(stored(observation(4))));
    expect(kinds(applied)).to.deep.equal([]);
    expect(recordedConf(applied)[OVERRIDES]).to.equal('v1:4');
    expect(applied.status.lifecycleState).to.equal('STABLE');
    expect(applied.status.autoscaler?.rescale).to.equal(undefined);
    expect(applied.events.map((e) => [e.reason, e.message])).to.deep.equal([
      ['Scaling', 'In-place scaling applied (Source: 4)'],
    ]);
  });

  it('upgrades the job instead when the rescale does not take within the scheduler’s delays', () => {
    const user = spec();
    const late = plan(user, pending(user, NOW - 10 * 60_000), noSample(stored(observation(2))));
    expect(late.events.map((e) => e.reason)).to.include.members(['RescaleNotApplied', 'SpecChanged']);
    expect(kinds(late)).to.deep.equal(['stop-job']);
    expect(late.status.autoscaler?.rescale).to.deep.include({ fallback: true });
  });

  it('upgrades the job when Flink refuses the new requirements', () => {
    const user = spec();
    const p = plan(user, stable(user), observation());
    const refused = action(p, 'rescale-in-place').statusIfRefused('HTTP 404');
    expect(refused.autoscaler?.rescale).to.deep.include({ fallback: true, reason: 'HTTP 404' });
    const next = plan(user, refused, noSample(stored(observation(2))));
    expect(kinds(next)).to.deep.equal(['stop-job']);
  });

  it('without the adaptive scheduler, a rescale is an upgrade with the overrides', () => {
    const user = spec({ 'jobmanager.scheduler': 'default' });
    const p = plan(user, stable(user), observation());
    expect(kinds(p)).to.deep.equal(['save-autoscaler-state', 'stop-job']);
    expect(p.events.find((e) => e.reason === 'SpecChanged')?.message).to.contain(OVERRIDES);
  });

  it('an upgrade with new overrides redeploys, though the generation is the same; a JobManager that has them is it', () => {
    const user = spec({ 'jobmanager.scheduler': 'default' }, { upgradeMode: 'stateless' });
    const first = plan(user, stable(user), observation());
    expect(first.status.reconciliationStatus?.state).to.equal('UPGRADING');
    const withJobManager = (overrides: string) => ({
      ...noSample(stored(observation(2))),
      jobManager: { phase: 'present' as const, generation: 1, overrides, available: true },
    });
    // The JobManager still there is the one from before the rescale: it goes, and the new spec is deployed.
    expect(kinds(plan(user, first.status, withJobManager('')))).to.deep.equal(['delete-cluster']);
    // One that carries the new overrides was deployed for them (a restart between deploying and recording it).
    expect(plan(user, first.status, withJobManager('v1:4')).status.reconciliationStatus?.state).to.equal('DEPLOYED');
  });

  it('when Flink does not run the overrides it was deployed with (FLINK-38770), says so once and decides nothing more', () => {
    const deployed = spec({ [OVERRIDES]: 'v1:4' });
    const ignored = stored(observation(2));
    const p = plan(spec(), stable(deployed), ignored);
    expect(p.status.autoscaler?.phase).to.equal('RescaleIgnored');
    expect(p.status.autoscaler?.message).to.match(
      /^Flink does not run the parallelism overrides .*\(Source: 2, not 4\)/,
    );
    expect(p.events.map((e) => e.reason)).to.deep.equal(['RescaleNotApplied']);
    expect(kinds(p), 'no rescale, no restart').to.deep.equal([]);
    expect(plan(spec(), p.status, ignored).events, 'said once').to.deep.equal([]);
  });

  it('a dry run recommends and changes nothing', () => {
    const user = spec({ 'job.autoscaler.scaling.enabled': 'false' });
    const p = plan(user, stable(user), observation());
    expect(kinds(p)).to.deep.equal(['save-autoscaler-state']);
    expect(action(p, 'save-autoscaler-state').data.parallelismOverrides).to.equal('');
    expect(p.status.autoscaler).to.deep.include({ phase: 'Recommending' });
    expect(p.status.autoscaler?.vertices?.[0]).to.include({ parallelism: 2, recommended: 4, blockedBy: 'DryRun' });
    expect(p.events.map((e) => e.reason)).to.deep.equal(['ScalingReport']);
  });

  it('turning it off clears its state and returns the job to the user’s parallelism, in place', () => {
    const deployed = spec({ [OVERRIDES]: 'v1:4' });
    const user = spec({ 'job.autoscaler.enabled': 'false' });
    const p = plan(user, stable(deployed, { autoscaler: { phase: 'Evaluated' } }), noSample(stored(observation(4))));
    expect(kinds(p)).to.deep.equal(['save-autoscaler-state', 'rescale-in-place']);
    expect(action(p, 'save-autoscaler-state').data.parallelismOverrides).to.equal('');
    expect(action(p, 'rescale-in-place').parallelism).to.deep.equal({ v1: 2 });
  });

  it('a new autoscalerResetNonce resets its state and overrides', () => {
    const deployed = spec({ [OVERRIDES]: 'v1:4' });
    const user = spec({}, { autoscalerResetNonce: 1 });
    const p = plan(user, stable(deployed, { autoscaler: { phase: 'Evaluated' } }), noSample(stored(observation(4))));
    expect(p.events.map((e) => e.reason)).to.include('AutoscalerReset');
    expect(action(p, 'rescale-in-place').parallelism).to.deep.equal({ v1: 2 });
  });

  it('in standalone mode a rescale is an upgrade, and the widest override sizes the TaskManagers', () => {
    const user = { ...spec(), mode: 'standalone' };
    const p = plan(user, stable(user), observation());
    expect(kinds(p)).to.deep.equal(['save-autoscaler-state', 'stop-job']);
    const scaled = { ...user, flinkConfiguration: { ...user.flinkConfiguration, [OVERRIDES]: 'a:8,b:2' } };
    expect(taskManagerReplicas(scaled as never, { 'taskmanager.numberOfTaskSlots': '2' })).to.equal(4);
  });

  it('a cycle that fails is an AutoscalerError event, and the reconcile goes on', () => {
    const user = spec();
    const broken = observation();
    broken.autoscaler!.view = { ...view(2), topology: null as never };
    const p = plan(user, stable(user), broken);
    expect(p.events.map((e) => e.reason)).to.deep.equal(['AutoscalerError']);
    expect(p.events[0]!.message).to.match(/^Autoscaler cycle failed: /);
    expect(p.status.lifecycleState).to.equal('STABLE');
  });

  it('keeps the recorded overrides when the autoscaler could not be observed (no JobManager to ask)', () => {
    const deployed = spec({ [OVERRIDES]: 'v1:4' });
    const { autoscaler: _, ...o } = observation();
    const p = plan(spec(), stable(deployed), o);
    expect(kinds(p)).to.deep.equal([]);
  });
});
