// The FlinkSessionJob planner, pass by pass: each test feeds it what the operator would observe and applies what
// it asks for (writing `status`, then each action's `statusAfter`), as the session-job reconciler does.
import { expect } from 'chai';
import {
  occupiesSession,
  planSessionJob,
  SESSION_JOB_FINALIZER,
  type SessionJobPlan,
  type SessionJobResource,
  type SessionState,
} from '../../api/reconcile/session-job.js';
import type { FlinkJob } from '../../api/reconcile/observe.js';
import { readSpecEnvelope } from '../../api/spec-envelope.js';

type Json = Record<string, any>;

const session = (
  status: Json = { jobManagerDeploymentStatus: 'READY', reconciliationStatus: { state: 'DEPLOYED' } },
): Json => ({
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkDeployment',
  metadata: { name: 'session', namespace: 'team-a' },
  spec: {
    image: 'flink:2.2',
    flinkVersion: 'v2_2',
    serviceAccount: 'flink',
    jobManager: { resource: { memory: '1g', cpu: 1 } },
    taskManager: { resource: { memory: '1g', cpu: 1 } },
    flinkConfiguration: {
      'execution.checkpointing.dir': 'file:///cp',
      'execution.checkpointing.savepoint-dir': 'file:///sp',
    },
  },
  status,
});

const sessionJob = (job: Json = {}): SessionJobResource => ({
  metadata: { name: 'wordcount', namespace: 'team-a', uid: 'u1', generation: 1, finalizers: [SESSION_JOB_FINALIZER] },
  spec: {
    deploymentName: 'session',
    job: {
      jarURI: 'https://artifacts.example.com/job.jar',
      parallelism: 2,
      upgradeMode: 'stateless',
      state: 'running',
      args: ['--a', '1'],
      ...job,
    },
  } as never,
});

const ready = (jobs: FlinkJob[] = [], deployment = session()): SessionState => ({ phase: 'ready', deployment, jobs });
const running = (id: string, state: FlinkJob['state'] = 'RUNNING'): FlinkJob => ({
  id,
  name: 'CountingJob',
  state,
  startTime: 1000,
});

let ids = 0;
const pass = (resource: SessionJobResource, sessionState: SessionState): SessionJobPlan =>
  planSessionJob({
    resource,
    observation: { now: 5000, session: sessionState },
    operatorConfig: {},
    newJobId: `job${++ids}`.padEnd(32, '0'),
  });

/** What the reconciler leaves behind: the plan's status written, then each action's status after it. */
function apply(
  resource: SessionJobResource,
  plan: SessionJobPlan,
  savepoint = 'file:///sp/savepoint-1',
): SessionJobResource {
  let status = plan.status;
  for (const action of plan.actions) {
    if (action.kind === 'submit') status = action.statusAfter;
    if (action.kind === 'stop-job')
      status = action.statusAfter(action.mechanism === 'savepoint' ? savepoint : undefined);
  }
  return { ...resource, status };
}

const recordedJob = (r: SessionJobResource) =>
  readSpecEnvelope(r.status?.reconciliationStatus?.lastReconciledSpec)?.spec.job as Json;

describe('FlinkSessionJob planner', () => {
  it('adds its finalizer before anything else', () => {
    const plan = pass({ ...sessionJob(), metadata: { ...sessionJob().metadata, finalizers: [] } }, ready());
    expect(plan.actions).to.deep.equal([{ kind: 'add-finalizer' }]);
  });

  it('waits, submitting nothing, while its session cluster does not exist or is not ready', () => {
    for (const state of [
      { phase: 'absent' } as const,
      { phase: 'not-ready', deployment: session(), reason: 'DEPLOYING' } as const,
    ]) {
      const plan = pass(sessionJob(), state);
      expect(plan.actions).to.deep.equal([]);
      expect(plan.status.lifecycleState).to.equal('CREATED');
      expect(plan.requeueAfterMs).to.equal(10_000);
    }
  });

  it('submits with a pinned job id written before the run, then records the spec DEPLOYED and becomes STABLE once Flink runs it', () => {
    const resource = sessionJob({ entryClass: 'org.example.Main' });
    const plan = pass(resource, ready());
    const submit = plan.actions[0]!;
    expect(submit.kind).to.equal('submit');
    if (submit.kind !== 'submit') return;
    expect(plan.status.jobStatus).to.include({ jobId: submit.request.jobId, state: 'RECONCILING' });
    expect(plan.status.reconciliationStatus?.state).to.equal('UPGRADING');
    expect(submit.request).to.deep.include({
      jarURI: 'https://artifacts.example.com/job.jar',
      entryClass: 'org.example.Main',
      args: ['--a', '1'],
      parallelism: 2,
    });
    expect(submit.request.savepointPath).to.equal(undefined);
    expect(plan.events.map((e) => e.reason)).to.deep.equal(['Submit']);
    const deployed = apply(resource, plan);
    expect(deployed.status?.reconciliationStatus?.state).to.equal('DEPLOYED');
    expect(deployed.status?.lifecycleState).to.equal('DEPLOYED');
    const stable = pass(deployed, ready([running(submit.request.jobId)]));
    expect(stable.status.lifecycleState).to.equal('STABLE');
    expect(stable.status.jobStatus).to.include({ state: 'RUNNING', jobName: 'CountingJob' });
    expect(stable.events.map((e) => e.reason)).to.deep.equal(['JobStatusChanged']);
  });

  it('after a restart between writing the job id and recording the run: finds the job by its id, or submits it again under the same id', () => {
    const first = pass(sessionJob(), ready());
    const jobId = first.status.jobStatus!.jobId!;
    const interrupted = { ...sessionJob(), status: first.status };
    const found = pass(interrupted, ready([running(jobId)]));
    expect(found.actions).to.deep.equal([]);
    expect(found.status.reconciliationStatus?.state).to.equal('DEPLOYED');
    const notFound = pass(interrupted, ready());
    expect(notFound.actions).to.have.length(1);
    expect(notFound.actions[0]).to.deep.include({ kind: 'submit' });
    expect((notFound.actions[0] as { request: { jobId: string } }).request.jobId).to.equal(jobId);
  });

  it('a jar URI fixed while a submission keeps failing: the next attempt submits the new spec under the same id', () => {
    const first = pass(sessionJob({ jarURI: 'https://artifacts.example.com/missing.txt' }), ready());
    const jobId = first.status.jobStatus!.jobId!;
    const fixed = { ...sessionJob(), metadata: { ...sessionJob().metadata, generation: 2 }, status: first.status };
    const retry = pass(fixed, ready());
    expect(retry.actions).to.have.length(1);
    const request = (retry.actions[0] as { request: { jobId: string; jarURI: string } }).request;
    expect(request).to.include({ jobId, jarURI: 'https://artifacts.example.com/job.jar' });
    expect(recordedJob({ ...fixed, status: retry.status }).jarURI).to.equal('https://artifacts.example.com/job.jar');
  });

  it('a savepoint upgrade: stop-with-savepoint, then the new job from that savepoint under a new id', () => {
    let r = apply(sessionJob({ upgradeMode: 'savepoint' }), pass(sessionJob({ upgradeMode: 'savepoint' }), ready()));
    const oldId = r.status!.jobStatus!.jobId!;
    r = { ...r, status: pass(r, ready([running(oldId)])).status };
    r = {
      ...r,
      metadata: { ...r.metadata, generation: 2 },
      spec: { ...r.spec, job: { ...r.spec.job!, parallelism: 4 } },
    };
    const stop = pass(r, ready([running(oldId)]));
    expect(stop.actions).to.have.length(1);
    expect(stop.actions[0]).to.deep.include({
      kind: 'stop-job',
      jobId: oldId,
      mechanism: 'savepoint',
      restorePoint: true,
    });
    expect(stop.events.map((e) => e.reason)).to.deep.equal(['SpecChanged', 'Suspended']);
    r = apply(r, stop);
    expect(r.status?.reconciliationStatus?.state).to.equal('UPGRADING');
    expect(r.status?.jobStatus?.upgradeSavepointPath).to.equal('file:///sp/savepoint-1');
    const submit = pass(r, ready([running(oldId, 'FINISHED')]));
    expect(submit.actions[0]).to.deep.include({ kind: 'submit' });
    const request = (submit.actions[0] as { request: { jobId: string; savepointPath?: string; parallelism?: number } })
      .request;
    expect(request.jobId).to.not.equal(oldId);
    expect(request).to.include({ savepointPath: 'file:///sp/savepoint-1', parallelism: 4 });
  });

  it('suspend cancels a stateless job (no restore point) and is SUSPENDED; resume submits from nothing', () => {
    let r = apply(sessionJob(), pass(sessionJob(), ready()));
    const id = r.status!.jobStatus!.jobId!;
    r = { ...r, spec: { ...r.spec, job: { ...r.spec.job!, state: 'suspended' } } };
    const stop = pass(r, ready([running(id)]));
    expect(stop.actions[0]).to.deep.include({ kind: 'stop-job', mechanism: 'cancel', restorePoint: false });
    r = apply(r, stop);
    expect(r.status?.lifecycleState).to.equal('SUSPENDED');
    expect(r.status?.jobStatus?.state, "cancelled: Flink's own word, not RUNNING").to.equal('CANCELED');
    expect(recordedJob(r).state).to.equal('suspended');
    expect(pass(r, ready([running(id, 'CANCELED')])).actions).to.deep.equal([]);
    r = { ...r, spec: { ...r.spec, job: { ...r.spec.job!, state: 'running' } } };
    const resume = pass(r, ready([running(id, 'CANCELED')]));
    expect(resume.actions[0]).to.deep.include({ kind: 'submit' });
    expect((resume.actions[0] as { request: { savepointPath?: string } }).request.savepointPath).to.equal(undefined);
  });

  it('suspended while its submission never reached the session: nothing to stop, and the job reads FINISHED, not RECONCILING', () => {
    const submitting = apply(sessionJob(), pass(sessionJob(), ready()));
    const inFlight = { ...submitting, status: pass(sessionJob(), ready()).status };
    // Suspended with another change at once (a suspend alone matches the spec recorded while submitting).
    const suspendedSpec = {
      ...inFlight.spec,
      job: { ...inFlight.spec.job!, state: 'suspended' as const, parallelism: 3 },
    };
    const plan = pass({ ...inFlight, spec: suspendedSpec }, ready());
    expect(plan.actions).to.deep.equal([]);
    expect([plan.status.lifecycleState, plan.status.jobStatus?.state]).to.deep.equal(['SUSPENDED', 'FINISHED']);
  });

  it('deletion cancels its own job, then lets the finalizer go; without a job on the session the finalizer goes at once', () => {
    const r = apply(sessionJob(), pass(sessionJob(), ready()));
    const id = r.status!.jobStatus!.jobId!;
    const deleting = { ...r, metadata: { ...r.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    const cancel = pass(deleting, ready([running(id), running('f'.repeat(32))]));
    expect(cancel.actions).to.have.length(1);
    expect(cancel.actions[0]).to.deep.include({ kind: 'stop-job', jobId: id, mechanism: 'cancel' });
    expect(cancel.status.lifecycleState).to.equal('DELETING');
    expect(pass(deleting, ready([running(id, 'CANCELED')])).actions).to.deep.equal([{ kind: 'remove-finalizer' }]);
    expect(pass(deleting, { phase: 'absent' }).actions).to.deep.equal([{ kind: 'remove-finalizer' }]);
  });

  it('while its session cluster is redeployed: stops its job with the upgrade mode, then resubmits it from the snapshot once the session is back', () => {
    let r = apply(sessionJob({ upgradeMode: 'savepoint' }), pass(sessionJob({ upgradeMode: 'savepoint' }), ready()));
    const id = r.status!.jobStatus!.jobId!;
    r = { ...r, status: pass(r, ready([running(id)])).status };
    expect(occupiesSession(r.status)).to.equal(true);
    const upgradingSession = session({
      jobManagerDeploymentStatus: 'READY',
      reconciliationStatus: { state: 'UPGRADING' },
    });
    const stop = pass(r, ready([running(id)], upgradingSession));
    expect(stop.actions[0]).to.deep.include({ kind: 'stop-job', mechanism: 'savepoint' });
    r = apply(r, stop);
    expect(occupiesSession(r.status)).to.equal(false);
    expect(pass(r, ready([running(id, 'FINISHED')], upgradingSession)).actions).to.deep.equal([]);
    const back = pass(r, ready([]));
    expect(back.actions[0]).to.deep.include({ kind: 'submit' });
    expect((back.actions[0] as { request: { savepointPath?: string } }).request.savepointPath).to.equal(
      'file:///sp/savepoint-1',
    );
  });

  it('a stateless job that vanished from its session is submitted again under a new id', () => {
    let r = apply(sessionJob(), pass(sessionJob(), ready()));
    const id = r.status!.jobStatus!.jobId!;
    r = { ...r, status: pass(r, ready([running(id)])).status };
    const again = pass(r, ready([]));
    expect(again.events.map((e) => e.reason)).to.include('Missing');
    expect(again.actions[0]).to.deep.include({ kind: 'submit' });
    expect((again.actions[0] as { request: { jobId: string } }).request.jobId).to.not.equal(id);
  });

  it('a target that is an application cluster is a ValidationError, and nothing is submitted', () => {
    const app = session();
    app.spec.job = { jarURI: 'local:///opt/flink/examples/streaming/StateMachineExample.jar', parallelism: 1 };
    const plan = pass(sessionJob(), ready([], app));
    expect(plan.actions).to.deep.equal([]);
    expect(plan.events.map((e) => e.reason)).to.deep.equal(['ValidationError']);
    expect(JSON.parse(plan.status.error!).message).to.match(/spec\.deploymentName: .*application cluster/);
  });
});
