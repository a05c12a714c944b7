// FlinkStateSnapshot (upstream FlinkStateSnapshotController and friends): admission, one snapshot's life from
// TRIGGER_PENDING to its end, deletion with disposal, and the snapshot resources a running job asks for —
// expected values written by hand.
import { expect } from 'chai';
import { planSnapshots, type OwnedSnapshot, type SnapshotInput } from '../../api/reconcile/snapshots.js';
import {
  locateSnapshotJob,
  newSnapshotResource,
  planStateSnapshot,
  STATE_SNAPSHOT_FINALIZER,
  type StateSnapshotInput,
  type StateSnapshotResource,
} from '../../api/reconcile/state-snapshot.js';
import { FLINK_STATE_SNAPSHOT } from '../../api/schema/crd.js';
import { validateResource } from '../../api/validation/index.js';
import type { JobTarget } from '../../api/validation/state-snapshot.js';
import type { Json } from '../../api/validation/access.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const T = '2026-11-30T12:00:00Z';
const JOB_ID = 'f'.repeat(32);
const ID = 'a'.repeat(32);

const runningJob = (over: Record<string, unknown> = {}): JobTarget => ({
  state: 'found',
  resource: {
    metadata: { name: 'job' },
    spec: { job: { state: 'running' } },
    status: { jobStatus: { jobId: JOB_ID, state: 'RUNNING' } },
    ...over,
  },
});

const snapshot = (
  spec: StateSnapshotResource['spec'],
  status?: StateSnapshotResource['status'],
  metadata: Partial<StateSnapshotResource['metadata']> = {},
): StateSnapshotResource => ({
  metadata: { name: 'snap', namespace: 'ns', finalizers: [STATE_SNAPSHOT_FINALIZER], ...metadata },
  spec,
  ...(status ? { status } : {}),
});

const savepointOf = (over: Record<string, unknown> = {}) => ({
  jobReference: { kind: 'FlinkDeployment' as const, name: 'job' },
  savepoint: { disposeOnDelete: true, ...over },
});
const checkpointOf = { jobReference: { kind: 'FlinkDeployment' as const, name: 'job' }, checkpoint: {} };

const run = (s: StateSnapshotResource, over: Partial<StateSnapshotInput> = {}) =>
  planStateSnapshot({
    snapshot: s,
    job: { target: runningJob(), config: { 'execution.checkpointing.savepoint-dir': 'file:///sp' } },
    tasksRunning: true,
    now: NOW,
    newTriggerId: ID,
    ...over,
  });

describe('FlinkStateSnapshot admission (upstream §3.8 and the job it names)', () => {
  const verdict = (spec: Record<string, unknown>, target: JobTarget = runningJob()) =>
    validateResource(
      FLINK_STATE_SNAPSHOT,
      { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkStateSnapshot', metadata: { name: 's' }, spec },
      { operatorConfig: {}, jobTarget: target },
    );
  const fields = (spec: Record<string, unknown>, target?: JobTarget) =>
    verdict(spec, target).errors.map((e) => e.field);

  it('refuses a checkpoint of a job whose Flink cannot take one on request (before 1.17), and takes its savepoint', () => {
    const old = runningJob({ spec: { flinkVersion: 'v1_16', job: { state: 'running' } } });
    expect(verdict(checkpointOf, old).errors).to.deep.equal([
      {
        field: 'spec.checkpoint',
        message:
          'FlinkDeployment "job" runs Flink v1_16, which cannot take a checkpoint on request (Flink 1.17 and later can); take a savepoint instead',
      },
    ]);
    expect(verdict(savepointOf(), old).errors).to.deep.equal([]);
    const current = runningJob({ spec: { flinkVersion: 'v1_17', job: { state: 'running' } } });
    expect(verdict(checkpointOf, current).errors).to.deep.equal([]);
  });

  it('admits a savepoint or a checkpoint of a running job, and an existing savepoint with its path and no job', () => {
    expect(verdict(savepointOf()).errors).to.deep.equal([]);
    expect(verdict(checkpointOf).errors).to.deep.equal([]);
    expect(
      verdict({ savepoint: { alreadyExists: true, path: 'file:///sp/x' } }, { state: 'missing' }).errors,
    ).to.deep.equal([]);
  });

  it('refuses both or neither of savepoint and checkpoint, an existing savepoint without a path, a missing job reference', () => {
    expect(verdict({ ...savepointOf(), checkpoint: {} }).errors[0]!.message).to.match(
      /exactly one of spec.savepoint and spec.checkpoint must be set \(both are\)/,
    );
    expect(fields({ jobReference: { kind: 'FlinkDeployment', name: 'job' } })).to.deep.equal(['spec']);
    expect(fields({ savepoint: { alreadyExists: true } })).to.deep.equal(['spec.savepoint.path']);
    expect(fields({ savepoint: {} })).to.deep.equal(['spec.jobReference']);
  });

  it('refuses a wrong kind (schema), a missing job, a session cluster, a suspended job — each at spec.jobReference', () => {
    expect(fields({ jobReference: { kind: 'Deployment', name: 'job' }, savepoint: {} })).to.deep.equal([
      'spec.jobReference.kind',
    ]);
    expect(verdict(savepointOf(), { state: 'missing' }).errors).to.deep.equal([
      { field: 'spec.jobReference.name', message: 'FlinkDeployment "job" does not exist in this namespace' },
    ]);
    expect(verdict(savepointOf(), { state: 'found', resource: { spec: {} } }).errors[0]!.message).to.match(
      /is a session cluster/,
    );
    expect(verdict(savepointOf(), runningJob({ spec: { job: { state: 'suspended' } } })).errors[0]!.message).to.match(
      /is suspended \(spec.job.state: suspended\): a snapshot needs a running job/,
    );
  });

  it('admits with a warning when the job cannot be looked up', () => {
    const v = verdict(savepointOf(), { state: 'unknown', reason: 'cache not in sync' });
    expect(v.errors).to.deep.equal([]);
    expect(v.warnings[0]).to.match(/could not be checked \(cache not in sync\)/);
  });
});

describe('a FlinkStateSnapshot from trigger to result', () => {
  it('first its finalizer; then TRIGGER_PENDING → IN_PROGRESS under the planned trigger id, into the job savepoint directory, labelled as upstream labels it', () => {
    expect(run(snapshot(savepointOf(), undefined, { finalizers: [] })).actions).to.deep.equal([
      { kind: 'add-finalizer' },
    ]);
    const p = run(snapshot(savepointOf()));
    expect(p.status).to.deep.equal({ state: 'IN_PROGRESS', failures: 0, triggerId: ID, triggerTimestamp: T });
    expect(p.actions).to.deep.equal([
      {
        kind: 'label',
        labels: {
          'snapshot.type': 'SAVEPOINT',
          'snapshot.trigger-type': 'MANUAL',
          'snapshot.state': 'IN_PROGRESS',
          'job-reference.kind': 'FlinkDeployment',
          'job-reference.name': 'job',
        },
      },
      {
        kind: 'trigger',
        reference: { kind: 'FlinkDeployment', name: 'job' },
        snapshot: 'savepoint',
        jobId: JOB_ID,
        triggerId: ID,
        path: 'file:///sp',
        formatType: 'CANONICAL',
      },
    ]);
    const own = run(snapshot(savepointOf({ path: 'file:///mine', formatType: 'NATIVE' })));
    expect(own.actions[1]).to.include({ path: 'file:///mine', formatType: 'NATIVE' });
    expect(run(snapshot(checkpointOf)).actions[1]).to.deep.equal({
      kind: 'trigger',
      reference: { kind: 'FlinkDeployment', name: 'job' },
      snapshot: 'checkpoint',
      jobId: JOB_ID,
      triggerId: ID,
    });
  });

  it('an existing savepoint is COMPLETED at once with its path; nothing is asked of Flink', () => {
    const p = run(snapshot({ savepoint: { alreadyExists: true, path: 'file:///sp/x', disposeOnDelete: false } }), {
      job: { target: { state: 'missing' } },
    });
    expect(p.status).to.deep.equal({
      state: 'COMPLETED',
      failures: 0,
      path: 'file:///sp/x',
      resultTimestamp: T,
      triggerTimestamp: T,
    });
    expect(p.actions.filter((a) => a.kind !== 'label')).to.deep.equal([]);
  });

  it('a job not running yet (or whose tasks are still deploying) is waited for; a missing, session or suspended one fails the snapshot with the reason', () => {
    const starting = run(snapshot(savepointOf()), {
      job: { target: runningJob({ status: { jobStatus: { state: 'CREATED' } } }) },
    });
    expect([
      starting.status.state,
      starting.requeueAfterMs,
      starting.actions.filter((a) => a.kind === 'trigger'),
    ]).to.deep.equal(['TRIGGER_PENDING', 5000, []]);
    const deploying = run(snapshot(savepointOf()), { tasksRunning: false });
    expect([
      deploying.status.state,
      deploying.requeueAfterMs,
      deploying.actions.filter((a) => a.kind === 'trigger'),
    ]).to.deep.equal(['TRIGGER_PENDING', 5000, []]);
    const missing = run(snapshot(savepointOf()), { job: { target: { state: 'missing' } } });
    expect(missing.status).to.include({
      state: 'FAILED',
      error: 'spec.jobReference.name: FlinkDeployment "job" does not exist in this namespace',
    });
    expect(missing.events).to.deep.equal([
      { type: 'Warning', reason: 'ValidationError', message: missing.status.error },
    ]);
    const both = run(snapshot({ ...savepointOf(), checkpoint: {} }));
    expect(both.status.state).to.equal('FAILED');
  });

  it('in flight: pending is polled, an id Flink never heard of is asked again under the same id, completion records the path', () => {
    const inFlight = snapshot(savepointOf(), {
      state: 'IN_PROGRESS',
      triggerId: 'b'.repeat(32),
      triggerTimestamp: T,
      failures: 0,
    });
    const pending = run(inFlight, { progress: { kind: 'savepoint', triggerId: 'b'.repeat(32), state: 'pending' } });
    expect([pending.status.state, pending.requeueAfterMs]).to.deep.equal(['IN_PROGRESS', 2000]);
    const unknown = run(inFlight, { progress: { kind: 'savepoint', triggerId: 'b'.repeat(32), state: 'unknown' } });
    expect(unknown.actions.find((a) => a.kind === 'trigger')).to.include({ triggerId: 'b'.repeat(32) });
    const done = run(inFlight, {
      progress: {
        kind: 'savepoint',
        triggerId: 'b'.repeat(32),
        state: 'completed',
        location: 'file:///sp/savepoint-1',
      },
    });
    expect(done.status).to.include({ state: 'COMPLETED', path: 'file:///sp/savepoint-1', resultTimestamp: T });
    expect(done.requeueAfterMs).to.equal(undefined);
    expect(done.events[0]).to.include({ type: 'Normal', reason: 'SavepointCompleted' });
  });

  it('a failure is retried after 10 s, 20 s … up to backoffLimit, then FAILED with the reason', () => {
    const spec = { ...savepointOf(), backoffLimit: 1 };
    const inFlight = snapshot(spec, { state: 'IN_PROGRESS', triggerId: ID, triggerTimestamp: T, failures: 0 });
    const first = run(inFlight, {
      progress: { kind: 'savepoint', triggerId: ID, state: 'failed', reason: 'disk full' },
    });
    expect(first.status).to.deep.include({ state: 'TRIGGER_PENDING', failures: 1, error: 'disk full' });
    expect(first.requeueAfterMs).to.equal(10_000);
    expect(first.events[0]).to.include({ type: 'Warning', reason: 'SavepointError' });
    const early = run(snapshot(spec, first.status), { now: NOW + 4000 });
    expect([early.status.state, early.requeueAfterMs]).to.deep.equal(['TRIGGER_PENDING', 6000]);
    const retry = run(snapshot(spec, first.status), { now: NOW + 10_000 });
    expect(retry.status).to.include({ state: 'IN_PROGRESS', failures: 1 });
    const second = run(snapshot(spec, retry.status), {
      now: NOW + 11_000,
      progress: { kind: 'savepoint', triggerId: ID, state: 'failed', reason: 'disk still full' },
    });
    expect(second.status).to.deep.include({ state: 'FAILED', failures: 2, error: 'disk still full' });
    expect(second.requeueAfterMs).to.equal(undefined);
  });

  it('a savepoint with nowhere to go is a failed attempt naming both settings; backoffLimit 0 fails at once', () => {
    const p = run(snapshot({ ...savepointOf(), backoffLimit: 0 }), { job: { target: runningJob(), config: {} } });
    expect(p.status).to.deep.include({ state: 'FAILED', failures: 1 });
    expect(p.status.error).to.match(
      /Either spec.savepoint.path or execution.checkpointing.savepoint-dir in the configuration of FlinkDeployment "job" has to be set/,
    );
  });

  it('a job that stops running under a snapshot in flight abandons it', () => {
    const p = run(snapshot(checkpointOf, { state: 'IN_PROGRESS', triggerId: ID, failures: 0 }), {
      job: { target: runningJob({ status: { jobStatus: { jobId: JOB_ID, state: 'CANCELED' } } }) },
    });
    expect(p.status).to.include({
      state: 'ABANDONED',
      error: 'Snapshot snap was abandoned: FlinkDeployment "job" is not running',
    });
    expect(p.events[0]).to.include({ reason: 'SnapshotAbandoned' });
  });

  it('terminal states stay as they are, with no look again', () => {
    for (const state of ['COMPLETED', 'FAILED', 'ABANDONED'] as const) {
      const p = run(
        snapshot(
          savepointOf(),
          { state, failures: 0 },
          {
            labels: {
              'snapshot.type': 'SAVEPOINT',
              'snapshot.trigger-type': 'MANUAL',
              'snapshot.state': state,
              'job-reference.kind': 'FlinkDeployment',
              'job-reference.name': 'job',
            },
          },
        ),
      );
      expect([p.actions, p.requeueAfterMs]).to.deep.equal([[], undefined]);
    }
  });
});

describe('deleting a FlinkStateSnapshot', () => {
  const deleting = (spec: StateSnapshotResource['spec'], status: StateSnapshotResource['status']) =>
    snapshot(spec, status, { deletionTimestamp: T });
  const completed = { state: 'COMPLETED' as const, path: 'file:///sp/savepoint-1' };

  it('a completed savepoint with disposeOnDelete is disposed of through its job Flink, then released', () => {
    expect(run(deleting(savepointOf(), completed)).actions).to.deep.equal([
      { kind: 'dispose', reference: { kind: 'FlinkDeployment', name: 'job' }, path: 'file:///sp/savepoint-1' },
      { kind: 'remove-finalizer' },
    ]);
  });

  it('a checkpoint, a savepoint to keep, or one never completed is released as it is', () => {
    expect(run(deleting(checkpointOf, completed)).actions).to.deep.equal([{ kind: 'remove-finalizer' }]);
    expect(run(deleting(savepointOf({ disposeOnDelete: false }), completed)).actions).to.deep.equal([
      { kind: 'remove-finalizer' },
    ]);
    expect(run(deleting(savepointOf(), { state: 'FAILED' })).actions).to.deep.equal([{ kind: 'remove-finalizer' }]);
  });

  it('in flight it waits for the result; with its job gone it is released with the path left said; a suspended job is waited for', () => {
    expect(run(deleting(savepointOf(), { state: 'IN_PROGRESS', triggerId: ID })).requeueAfterMs).to.equal(2000);
    const gone = run(deleting(savepointOf(), completed), { job: { target: { state: 'missing' } } });
    expect(gone.actions).to.deep.equal([{ kind: 'remove-finalizer' }]);
    expect(gone.events[0]!.message).to.match(
      /Savepoint file:\/\/\/sp\/savepoint-1 was not disposed of: FlinkDeployment "job" no longer exists/,
    );
    const suspended = run(deleting(savepointOf(), completed), {
      job: { target: runningJob({ spec: { job: { state: 'suspended' } }, status: {} }) },
    });
    expect([suspended.actions, suspended.requeueAfterMs]).to.deep.equal([[], 30_000]);
    expect(suspended.events[0]!.message).to.match(
      /is disposed of once FlinkDeployment "job" runs again: .*is suspended/,
    );
  });
});

describe('snapshot resources a running job asks for (kubernetes.operator.snapshot.resource.enabled, the default)', () => {
  const base = (over: Partial<SnapshotInput> = {}): SnapshotInput => ({
    job: { jobId: JOB_ID, state: 'RUNNING', startTime: String(NOW - 5000) },
    spec: { job: {} },
    reconciled: { job: {} },
    conf: {},
    now: NOW,
    progress: [],
    tasksRunning: true,
    newTriggerId: ID,
    owned: [],
    ...over,
  });
  const owned = (name: string, createdMs: number, over: Partial<OwnedSnapshot> = {}): OwnedSnapshot => ({
    name,
    kind: 'savepoint',
    triggerType: 'PERIODIC',
    state: 'COMPLETED',
    path: `file:///sp/${name}`,
    createdMs,
    deleting: false,
    ...over,
  });

  it('a new nonce asks for a MANUAL FlinkStateSnapshot (disposed with it) and records the nonce; the status has no trigger', () => {
    const step = planSnapshots(base({ spec: { job: { savepointTriggerNonce: 2 } } }));
    expect(step.actions).to.deep.equal([
      { kind: 'create-snapshot', request: { snapshot: 'savepoint', triggerType: 'MANUAL', disposeOnDelete: true } },
    ]);
    expect(step.nonces).to.deep.equal({ savepointTriggerNonce: 2 });
    expect(step.job.savepointInfo).to.equal(undefined);
  });

  it('one of a kind at a time: a pending or in-progress one holds the next back', () => {
    for (const state of [undefined, 'TRIGGER_PENDING', 'IN_PROGRESS']) {
      const step = planSnapshots(
        base({
          spec: { job: { savepointTriggerNonce: 2 } },
          owned: [owned('a', NOW - 1000, { triggerType: 'MANUAL', ...(state ? { state } : { state: undefined }) })],
        }),
      );
      expect(step.actions).to.deep.equal([]);
    }
  });

  it('periodic ones are PERIODIC, disposed of on delete as kubernetes.operator.savepoint.dispose-on-delete says', () => {
    const conf = {
      'kubernetes.operator.periodic.savepoint.interval': '1 s',
      'kubernetes.operator.savepoint.dispose-on-delete': 'true',
    };
    expect(planSnapshots(base({ conf })).actions).to.deep.equal([
      { kind: 'create-snapshot', request: { snapshot: 'savepoint', triggerType: 'PERIODIC', disposeOnDelete: true } },
    ]);
  });

  it('the history keeps max.count periodic and upgrade ones, never the newest completed one nor the upgrade restore point; manual ones are the user’s', () => {
    const conf = { 'kubernetes.operator.savepoint.history.max.count': '2' };
    const history = [
      owned('p1', 1),
      owned('p2', 2),
      owned('up', 3, { triggerType: 'UPGRADE' }),
      owned('p4', 4),
      owned('m5', 5, { triggerType: 'MANUAL' }),
      owned('p6', 6, { state: 'IN_PROGRESS', path: undefined }),
    ];
    const step = planSnapshots(
      base({
        conf,
        owned: history,
        job: { jobId: JOB_ID, state: 'RUNNING', upgradeSavepointPath: 'file:///sp/p2' },
        tasksRunning: false,
      }),
    );
    expect(step.actions).to.deep.equal([{ kind: 'delete-snapshots', names: ['p1', 'up'] }]);
  });

  it('is named and owned as upstream names it, an upgrade savepoint recorded as already taken', () => {
    const owner = { kind: 'FlinkDeployment' as const, name: 'job', namespace: 'ns', uid: 'u-1' };
    expect(
      newSnapshotResource(
        owner,
        { snapshot: 'savepoint', triggerType: 'UPGRADE', path: 'file:///sp/x', disposeOnDelete: false },
        1234,
      ),
    ).to.deep.equal({
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkStateSnapshot',
      metadata: {
        name: 'job-savepoint-upgrade-1234',
        namespace: 'ns',
        labels: { 'snapshot.trigger-type': 'UPGRADE' },
        ownerReferences: [
          {
            apiVersion: 'flink.apache.org/v1beta1',
            kind: 'FlinkDeployment',
            name: 'job',
            uid: 'u-1',
            controller: false,
            blockOwnerDeletion: false,
          },
        ],
      },
      spec: {
        jobReference: { kind: 'FlinkDeployment', name: 'job' },
        backoffLimit: -1,
        savepoint: { path: 'file:///sp/x', formatType: 'CANONICAL', disposeOnDelete: false, alreadyExists: true },
      },
    });
    expect(
      newSnapshotResource(owner, { snapshot: 'checkpoint', triggerType: 'PERIODIC', disposeOnDelete: false }, 1).spec,
    ).to.deep.equal({ jobReference: { kind: 'FlinkDeployment', name: 'job' }, backoffLimit: 0, checkpoint: {} });
  });

  it("finds the Flink of the job it names: a FlinkDeployment's own, a session job's session, with that job's savepoint directory", () => {
    const resources: Record<string, Json> = {
      'FlinkDeployment/session': {
        metadata: { name: 'session', namespace: 'ns' },
        spec: {
          flinkVersion: 'v2_2',
          flinkConfiguration: { 'execution.checkpointing.savepoint-dir': 'file:///session-sp' },
        },
      },
      'FlinkSessionJob/orders': {
        metadata: { name: 'orders', namespace: 'ns' },
        spec: { deploymentName: 'session', job: { jarURI: 'file:///j.jar' } },
      },
      'FlinkDeployment/app': {
        metadata: { name: 'app', namespace: 'ns' },
        spec: {
          flinkVersion: 'v2_2',
          flinkConfiguration: { 'execution.checkpointing.savepoint-dir': 'file:///app-sp' },
        },
      },
    };
    const lookup = (kind: string, name: string) => resources[`${kind}/${name}`];
    const sessionJob = locateSnapshotJob({ kind: 'FlinkSessionJob', name: 'orders' }, lookup, {});
    expect(sessionJob.cluster).to.equal('session');
    expect(sessionJob.config?.['execution.checkpointing.savepoint-dir']).to.equal('file:///session-sp');
    const app = locateSnapshotJob({ kind: 'FlinkDeployment', name: 'app' }, lookup, {});
    expect(app).to.include({ cluster: 'app' });
    expect(app.config?.['execution.checkpointing.savepoint-dir']).to.equal('file:///app-sp');
    expect(locateSnapshotJob({ kind: 'FlinkSessionJob', name: 'gone' }, lookup, {})).to.deep.equal({
      target: { state: 'missing' },
    });
  });
});
