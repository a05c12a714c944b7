// The reconciler's decisions without I/O: given a stored resource and what was observed, the next step. Expected
// values are written by hand from the upstream flow (notes §2.3, §5.4, §6), not produced by the code under test.
import { expect } from 'chai';
import {
  FINALIZER,
  planDeployment,
  reconcileTrigger,
  type DeploymentResource,
  type Plan,
} from '../../api/reconcile/plan.js';
import type { FlinkJob, JobManagerObservation, Observation } from '../../api/reconcile/observe.js';
import { readSpecEnvelope, writeSpecEnvelope } from '../../api/spec-envelope.js';
import { failedStepStatus } from '../../api/reconcile/context.js';
import type { FlinkDeploymentStatus } from '../../api/types.generated.js';

const NOW = 1_800_000_000_000;
const JOB_ID = 'a'.repeat(32);
const NEW_JOB_ID = 'b'.repeat(32);

function spec(job: Record<string, unknown> = {}): Record<string, any> {
  return {
    image: 'flink:2.2',
    flinkVersion: 'v2_2',
    serviceAccount: 'flink',
    mode: 'native',
    flinkConfiguration: {
      'execution.checkpointing.dir': 'file:///cp',
      'execution.checkpointing.savepoint-dir': 'file:///sp',
    },
    jobManager: { replicas: 1, resource: { memory: '1g', cpu: 1 } },
    taskManager: { resource: { memory: '1g', cpu: 1 } },
    job: {
      jarURI: 'local:///opt/flink/examples/streaming/StateMachineExample.jar',
      parallelism: 2,
      state: 'running',
      upgradeMode: 'savepoint',
      args: [],
      ...job,
    },
  };
}

const envelope = (s: Record<string, unknown>) =>
  writeSpecEnvelope({ spec: s, apiVersion: 'flink.apache.org/v1beta1', firstDeployment: false });

/** A resource that was deployed with `deployed` and is now asked to run `desired`. */
function resource(
  desired: Record<string, any>,
  status: Record<string, any> | undefined,
  extra: Partial<DeploymentResource['metadata']> = {},
): DeploymentResource {
  return {
    metadata: { name: 'orders', namespace: 'prod', uid: 'u-1', generation: 2, finalizers: [FINALIZER], ...extra },
    spec: desired,
    status,
  };
}

function stableStatus(deployed: Record<string, any>, jobState = 'RUNNING'): Record<string, any> {
  const text = envelope(deployed);
  return {
    jobManagerDeploymentStatus: 'READY',
    jobStatus: { jobId: JOB_ID, state: jobState },
    observedGeneration: 1,
    reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: text, lastStableSpec: text },
  };
}

const present: JobManagerObservation = { phase: 'present', generation: 1, available: true };
const running = (state: FlinkJob['state'] = 'RUNNING'): Observation => ({
  now: NOW,
  jobManager: present,
  rest: { reachable: true, jobs: [{ id: JOB_ID, name: 'j', state, startTime: 1 }] },
});
const absent: Observation = { now: NOW, jobManager: { phase: 'absent' } };

const plan = (r: DeploymentResource, o: Observation, operatorConfig: Record<string, string> = {}): Plan =>
  planDeployment({ resource: r, observation: o, operatorConfig, newJobId: NEW_JOB_ID });
const recorded = (p: Plan) =>
  readSpecEnvelope(p.status.reconciliationStatus?.lastReconciledSpec)?.spec as Record<string, any> | undefined;

describe('reconcile plan (pure)', () => {
  it('adds the finalizer before anything else', () => {
    const p = plan(resource(spec(), undefined, { finalizers: [] }), absent);
    expect(p.actions).to.deep.equal([{ kind: 'add-finalizer' }]);
  });

  it('first deployment: records UPGRADING with job.state suspended, then deploys and records DEPLOYED (notes §5.4)', () => {
    const p = plan(resource(spec({ upgradeMode: 'last-state' }), undefined), absent);
    expect(p.status.lifecycleState).to.equal('UPGRADING');
    expect(p.status.reconciliationStatus?.state).to.equal('UPGRADING');
    expect(recorded(p)?.job.state).to.equal('suspended');
    expect(recorded(p)?.job.upgradeMode, 'first deploy is recorded stateless without initialSavepointPath').to.equal(
      'stateless',
    );
    expect(p.status.jobStatus?.jobId).to.equal(NEW_JOB_ID);
    const deploy = p.actions[0]!;
    expect(deploy.kind).to.equal('deploy');
    if (deploy.kind !== 'deploy') return;
    expect(deploy.statusAfter.lifecycleState).to.equal('DEPLOYED');
    expect(readSpecEnvelope(deploy.statusAfter.reconciliationStatus?.lastReconciledSpec)?.spec).to.have.nested.property(
      'job.state',
      'running',
    );
    const config = (deploy.objects.dependents[0] as { data: Record<string, string> }).data['config.yaml']!;
    expect(config).to.contain(`$internal.pipeline.job-id: ${NEW_JOB_ID}`);
    expect(config).to.contain('pipeline.jars: local:///opt/flink/examples/streaming/StateMachineExample.jar');
    expect(config).to.contain('parallelism.default: 2');
    expect(config).to.not.contain('execution.state-recovery.path');
  });

  it('first deployment with initialSavepointPath restores from it and records savepoint mode', () => {
    const p = plan(resource(spec({ initialSavepointPath: 'file:///sp/savepoint-1' }), undefined), absent);
    expect(recorded(p)?.job.upgradeMode).to.equal('savepoint');
    const deploy = p.actions[0]!;
    expect(
      deploy.kind === 'deploy' &&
        (deploy.objects.dependents[0] as { data: Record<string, string> }).data['config.yaml'],
    ).to.contain('execution.state-recovery.path: file:///sp/savepoint-1');
  });

  it('a new savepointRedeployNonce discards the running job without a savepoint and redeploys from initialSavepointPath (upstream redeployWithSavepoint)', () => {
    const deployed = spec({ upgradeMode: 'last-state' });
    const desired = spec({
      upgradeMode: 'last-state',
      savepointRedeployNonce: 1,
      initialSavepointPath: 'file:///sp/savepoint-7',
    });
    const first = plan(resource(desired, stableStatus(deployed)), running());
    expect(first.actions, 'no stop, no savepoint: the cluster and its HA metadata go').to.deep.equal([
      { kind: 'delete-cluster', deleteHaMetadata: true },
    ]);
    expect(first.status.lifecycleState).to.equal('UPGRADING');
    expect(first.status.jobStatus?.upgradeSavepointPath).to.equal('file:///sp/savepoint-7');
    expect(recorded(first)?.job).to.include({ upgradeMode: 'savepoint', savepointRedeployNonce: 1 });

    const gone = { ...first.status, jobManagerDeploymentStatus: 'MISSING' };
    const second = plan(resource(desired, gone), absent);
    const deploy = second.actions[0]!;
    expect(deploy.kind).to.equal('deploy');
    const config =
      deploy.kind === 'deploy'
        ? (deploy.objects.dependents[0] as { data: Record<string, string> }).data['config.yaml']!
        : '';
    expect(config, 'restored from the initial savepoint, not from the discarded job').to.contain(
      'execution.state-recovery.path: file:///sp/savepoint-7',
    );
    expect(config).to.contain(`$internal.pipeline.job-id: ${NEW_JOB_ID}`);
  });

  it('created suspended: nothing is deployed and it stays CREATED', () => {
    const p = plan(resource(spec({ state: 'suspended' }), undefined), absent);
    expect(p.actions).to.deep.equal([]);
    expect(p.status.lifecycleState).to.equal('CREATED');
  });

  it('marks the spec stable once the job RUNS while DEPLOYED', () => {
    const s = spec();
    const status = {
      ...stableStatus(s, 'RECONCILING'),
      reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: envelope(s) },
    };
    const p = plan(resource(s, status), running());
    expect(p.status.lifecycleState).to.equal('STABLE');
    expect(p.status.reconciliationStatus?.lastStableSpec).to.equal(p.status.reconciliationStatus?.lastReconciledSpec);
    expect(p.events.map((e) => e.reason)).to.deep.equal(['JobStatusChanged']);
  });

  it('steady state: nothing to do, the status unchanged, looked at again after the reconcile interval', () => {
    const s = spec();
    const status = stableStatus(s);
    const p = plan(resource(s, status), running(), { 'kubernetes.operator.reconcile.interval': '30 s' });
    expect(p.actions).to.deep.equal([]);
    expect(p.events).to.deep.equal([]);
    expect(p.requeueAfterMs).to.equal(30_000);
    expect(p.status.reconciliationStatus).to.deep.equal(status.reconciliationStatus);
  });

  it('a job coming up is asked about every half second at first, then at a twentieth of the wait, at most the progress-check interval', () => {
    const deployed = spec();
    const cases: [number, number][] = [
      [1_000, 500],
      [9_000, 500],
      [30_000, 1_500],
      [60_000, 3_000],
      [120_000, 6_000],
      [600_000, 10_000],
    ];
    for (const [sinceDeploy, requeue] of cases) {
      const status = {
        ...stableStatus(deployed, 'CREATED'),
        reconciliationStatus: {
          state: 'DEPLOYED',
          reconciliationTimestamp: NOW - sinceDeploy,
          lastReconciledSpec: envelope(deployed),
        },
      };
      const p = plan(resource(deployed, status), running('CREATED'));
      expect(p.status.lifecycleState, `${sinceDeploy} ms after the deploy`).to.equal('DEPLOYED');
      expect(p.requeueAfterMs, `${sinceDeploy} ms after the deploy`).to.equal(requeue);
    }
    const stable = plan(
      resource(deployed, {
        ...stableStatus(deployed, 'CREATED'),
        reconciliationStatus: {
          state: 'DEPLOYED',
          reconciliationTimestamp: NOW - 1_000,
          lastReconciledSpec: envelope(deployed),
        },
      }),
      running(),
    );
    expect(stable.status.lifecycleState, 'once it runs').to.equal('STABLE');
    expect(stable.requeueAfterMs, 'stable: the reconcile interval').to.equal(60_000);
  });

  const upgrades: [string, Record<string, unknown>, string, string][] = [
    ['savepoint', { upgradeMode: 'savepoint' }, 'savepoint', 'savepoint'],
    ['last-state', { upgradeMode: 'last-state' }, 'cancel', 'last-state'],
  ];
  for (const [mode, job, mechanism, restoreMode] of upgrades) {
    it(`a parallelism change with upgradeMode ${mode} stops the job (${mechanism}) and records UPGRADING with the snapshot`, () => {
      const deployed = spec(job);
      const p = plan(resource(spec({ ...job, parallelism: 4 }), stableStatus(deployed)), running());
      expect(p.events.map((e) => e.reason)).to.deep.equal(['SpecChanged', 'Suspended']);
      expect(p.events[0]!.message).to.equal(
        'UPGRADE change(s) detected (spec.job.parallelism), starting reconciliation.',
      );
      const stop = p.actions[0]!;
      expect(stop).to.include({
        kind: 'stop-job',
        jobId: JOB_ID,
        mechanism,
        restorePoint: true,
        checkpointStatsTtlMs: 3000,
      });
      if (stop.kind !== 'stop-job') return;
      const after = stop.statusAfter('file:///sp/savepoint-9');
      expect(after.reconciliationStatus?.state).to.equal('UPGRADING');
      expect(after.jobStatus?.upgradeSavepointPath).to.equal('file:///sp/savepoint-9');
      const envelopeAfter = readSpecEnvelope(after.reconciliationStatus?.lastReconciledSpec)!.spec as Record<
        string,
        any
      >;
      expect(envelopeAfter.job).to.include({ state: 'suspended', upgradeMode: restoreMode, parallelism: 4 });
    });
  }

  it('a change with upgradeMode stateless needs no stop: UPGRADING at once, no snapshot kept', () => {
    const deployed = spec({ upgradeMode: 'stateless' });
    const status = stableStatus(deployed);
    status.jobStatus.upgradeSavepointPath = 'file:///sp/old';
    const p = plan(resource(spec({ upgradeMode: 'stateless', parallelism: 4 }), status), running());
    expect(p.actions).to.deep.equal([]);
    expect(p.status.lifecycleState).to.equal('UPGRADING');
    expect(p.status.jobStatus?.upgradeSavepointPath).to.equal(undefined);
    expect(p.requeueAfterMs).to.equal(0);
  });

  it('UPGRADING with the old cluster still there: deletes it, HA metadata too (the new job restores from its savepoint), before deploying', () => {
    const desired = spec({ parallelism: 4 });
    const status = {
      ...stableStatus(spec()),
      observedGeneration: 2,
      reconciliationStatus: {
        state: 'UPGRADING',
        lastReconciledSpec: envelope({ ...desired, job: { ...desired.job, state: 'suspended' } }),
      },
    };
    const p = plan(resource(desired, status), {
      now: NOW,
      jobManager: { phase: 'present', generation: 1, available: true },
      rest: { reachable: true, jobs: [] },
    });
    expect(p.actions).to.deep.equal([{ kind: 'delete-cluster', deleteHaMetadata: true }]);
  });

  it('UPGRADING with the cluster gone: deploys the new spec from the recorded savepoint with a new job id', () => {
    const desired = spec({ parallelism: 4 });
    const status = {
      jobStatus: { jobId: JOB_ID, state: 'FINISHED', upgradeSavepointPath: 'file:///sp/savepoint-9' },
      observedGeneration: 2,
      reconciliationStatus: {
        state: 'UPGRADING',
        lastReconciledSpec: envelope({ ...desired, job: { ...desired.job, state: 'suspended' } }),
        lastStableSpec: envelope(spec()),
      },
    };
    const p = plan(resource(desired, status), absent);
    const deploy = p.actions[0]!;
    expect(deploy.kind).to.equal('deploy');
    if (deploy.kind !== 'deploy') return;
    const config = (deploy.objects.dependents[0] as { data: Record<string, string> }).data['config.yaml']!;
    expect(config).to.contain('execution.state-recovery.path: file:///sp/savepoint-9');
    expect(config).to.contain(`$internal.pipeline.job-id: ${NEW_JOB_ID}`);
    expect(config).to.contain('parallelism.default: 4');
    expect(p.status.jobStatus?.jobId, 'the new id is in the status before the cluster exists').to.equal(NEW_JOB_ID);
    expect(
      (deploy.objects.jobManager as { metadata: { annotations: Record<string, string> } }).metadata.annotations[
        'flinkdeployment.flink.apache.org/generation'
      ],
    ).to.equal('2');
  });

  it('an operator restarted between deploying and recording it takes the upgrade as done (generation annotation)', () => {
    const desired = spec({ parallelism: 4 });
    const status = {
      jobStatus: { jobId: NEW_JOB_ID, state: 'RECONCILING' },
      observedGeneration: 2,
      reconciliationStatus: {
        state: 'UPGRADING',
        lastReconciledSpec: envelope({ ...desired, job: { ...desired.job, state: 'suspended' } }),
      },
    };
    const p = plan(resource(desired, status), {
      now: NOW,
      jobManager: { phase: 'present', generation: 2, available: false },
    });
    expect(p.actions, 'no second deployment').to.deep.equal([]);
    expect(p.status.reconciliationStatus?.state).to.equal('DEPLOYED');
    expect(recorded(p)?.job.state).to.equal('running');
  });

  it('suspend with upgradeMode savepoint: stop-with-savepoint, then DEPLOYED, suspended and stable at once', () => {
    const p = plan(resource(spec({ state: 'suspended' }), stableStatus(spec())), running());
    const stop = p.actions[0]!;
    expect(stop).to.include({ kind: 'stop-job', mechanism: 'savepoint' });
    if (stop.kind !== 'stop-job') return;
    const after = stop.statusAfter('file:///sp/savepoint-3');
    expect(after.reconciliationStatus?.state).to.equal('DEPLOYED');
    expect(after.reconciliationStatus?.lastStableSpec).to.equal(after.reconciliationStatus?.lastReconciledSpec);
    expect(after.jobStatus).to.include({ state: 'FINISHED', upgradeSavepointPath: 'file:///sp/savepoint-3' });
  });

  it('suspended with the JobManager still up: deletes the cluster so nothing runs, and (not last-state) its HA metadata', () => {
    const suspendedSpec = spec({ state: 'suspended' });
    const status = stableStatus(suspendedSpec, 'FINISHED');
    const p = plan(resource(suspendedSpec, status), running('FINISHED'));
    expect(p.status.lifecycleState).to.equal('SUSPENDED');
    expect(p.actions).to.deep.equal([{ kind: 'delete-cluster', deleteHaMetadata: true }]);
  });

  describe('the job state once a job is stopped tells the truth (upstream: FINISHED once stopped or its cluster deleted)', () => {
    const HA = { 'high-availability.type': 'kubernetes', 'high-availability.storageDir': 'file:///ha' };
    /**
     * Drives the planner as the reconciler would, from a STABLE job to the end of a spec change: each pass's status
     * written, a stop's status after it, Flink's word on a stopped job, and the cluster gone once deleted. Returns the
     * status written with the cluster's deletion and the one the passes settle on.
     */
    function stopThrough(deployed: Record<string, any>, desired: Record<string, any>) {
      let status: Record<string, any> = stableStatus(deployed);
      let seen = running();
      let atDeletion: FlinkDeploymentStatus | undefined;
      for (let pass = 0; pass < 8 && !(atDeletion && seen === absent); pass++) {
        const p = plan(resource(desired, status), seen);
        status = p.status;
        for (const action of p.actions) {
          if (action.kind === 'stop-job') {
            status = action.statusAfter(action.mechanism === 'savepoint' ? 'file:///sp/savepoint-9' : undefined);
            seen = running(action.mechanism === 'savepoint' ? 'FINISHED' : 'CANCELED');
          }
          if (action.kind === 'delete-cluster') ((atDeletion = p.status), (seen = absent));
        }
      }
      return { atDeletion, settled: plan(resource(desired, status), absent).status };
    }
    const withHa = (s: Record<string, any>) => ((s.flinkConfiguration = { ...s.flinkConfiguration, ...HA }), s);
    // [upgrade mode, HA, Flink's word for the stopped job: what a user reads under JOB STATUS once SUSPENDED]
    const rows: [string, boolean, string][] = [
      ['stateless', false, 'FINISHED'], // the cluster is deleted under the running job
      ['savepoint', false, 'FINISHED'], // stop-with-savepoint: Flink says FINISHED
      ['last-state', false, 'CANCELED'], // cancelled, the newest checkpoint kept: Flink says CANCELED
      ['last-state', true, 'FINISHED'], // the cluster goes, the job lives on in HA metadata
    ];
    for (const [upgradeMode, ha, state] of rows) {
      it(`suspend, upgradeMode ${upgradeMode}${ha ? ' with Kubernetes HA' : ''}: SUSPENDED, JobManager MISSING, job ${state}`, () => {
        const deployed = spec({ upgradeMode });
        const { atDeletion, settled } = stopThrough(
          ha ? withHa(deployed) : deployed,
          (ha ? withHa : (s: Record<string, any>) => s)(spec({ upgradeMode, state: 'suspended' })),
        );
        expect(atDeletion?.jobStatus?.state, 'written with the deletion').to.equal(state);
        expect([settled.lifecycleState, settled.jobManagerDeploymentStatus, settled.jobStatus?.state]).to.deep.equal([
          'SUSPENDED',
          'MISSING',
          state,
        ]);
      });
    }

    it('an upgrade: the old job reads FINISHED while its cluster is replaced, then RECONCILING under the new deployment', () => {
      const { atDeletion, settled } = stopThrough(
        spec({ upgradeMode: 'stateless' }),
        spec({ upgradeMode: 'stateless', parallelism: 4 }),
      );
      expect(atDeletion?.jobStatus?.state).to.equal('FINISHED');
      expect([settled.lifecycleState, settled.jobStatus?.state]).to.deep.equal(['UPGRADING', 'RECONCILING']);
    });

    it('a status stored SUSPENDED with the job RUNNING and no cluster (written before this rule) reads FINISHED on the next look', () => {
      const suspendedSpec = spec({ upgradeMode: 'stateless', state: 'suspended' });
      const stale = { ...stableStatus(suspendedSpec, 'RUNNING'), jobManagerDeploymentStatus: 'MISSING' };
      const p = plan(resource(suspendedSpec, stale), absent);
      expect([p.status.lifecycleState, p.status.jobStatus?.state]).to.deep.equal(['SUSPENDED', 'FINISHED']);
      expect(p.events.map((e) => e.message)).to.deep.equal(['Job status changed from RUNNING to FINISHED']);
      expect(
        plan(resource(suspendedSpec, { ...stale, jobStatus: { jobId: JOB_ID, state: 'FAILED' } }), absent).status
          .jobStatus?.state,
        "Flink's own end is kept",
      ).to.equal('FAILED');
    });
  });

  it('resume from suspended restores from the recorded savepoint', () => {
    const status: Record<string, any> = {
      ...stableStatus(spec({ state: 'suspended' }), 'FINISHED'),
      jobManagerDeploymentStatus: 'MISSING',
    };
    status.jobStatus.upgradeSavepointPath = 'file:///sp/savepoint-3';
    const p = plan(resource(spec(), status), absent);
    const deploy = p.actions[0]!;
    expect(
      deploy.kind === 'deploy' &&
        (deploy.objects.dependents[0] as { data: Record<string, string> }).data['config.yaml'],
    ).to.contain('execution.state-recovery.path: file:///sp/savepoint-3');
    expect(p.status.lifecycleState).to.equal('UPGRADING');
  });

  it('a failed job shows FAILED with the cause Flink gave', () => {
    const s = spec();
    const p = planDeployment({
      resource: resource(s, stableStatus(s)),
      observation: {
        ...running('FAILED'),
        failure: {
          type: 'org.apache.flink.util.FlinkException',
          message: 'boom',
          throwableList: [{ type: 'java.lang.IllegalStateException', message: 'why' }],
        },
      },
      operatorConfig: {},
      newJobId: NEW_JOB_ID,
    });
    expect(p.status.lifecycleState).to.equal('FAILED');
    expect(JSON.parse(p.status.error!)).to.deep.equal({
      type: 'org.apache.flink.util.FlinkException',
      message: 'boom',
      throwableList: [{ type: 'java.lang.IllegalStateException', message: 'why' }],
    });
  });

  it('an invalid spec after deployment: ValidationError once, the last valid spec kept, no action', () => {
    const s = spec();
    const p = plan(resource(spec({ parallelism: 0 }), stableStatus(s)), running());
    expect(p.actions).to.deep.equal([]);
    expect(p.events.map((e) => e.reason)).to.deep.equal(['ValidationError']);
    expect(JSON.parse(p.status.error!).message).to.contain('spec.job.parallelism');
    expect(p.status.lifecycleState).to.equal('STABLE');
    const again = plan(resource(spec({ parallelism: 0 }), p.status), running());
    expect(again.events, 'reported once, not on every reconcile').to.deep.equal([]);
  });

  it('deletion: DELETING, savepoint first when savepoint-on-deletion, then the cluster, then the finalizer', () => {
    const s = spec();
    const deleting = { deletionTimestamp: '2026-11-29T00:00:00Z' };
    const withSavepoint = plan(resource(s, stableStatus(s), deleting), running(), {
      'kubernetes.operator.job.savepoint-on-deletion': 'true',
    });
    expect(withSavepoint.status.lifecycleState).to.equal('DELETING');
    expect(withSavepoint.actions[0]).to.include({ kind: 'stop-job', mechanism: 'savepoint' });
    expect(plan(resource(s, stableStatus(s), deleting), running()).actions).to.deep.equal([
      { kind: 'delete-cluster', deleteHaMetadata: true },
    ]);
    expect(plan(resource(s, stableStatus(s), deleting), absent).actions).to.deep.equal([
      { kind: 'delete-cluster', deleteHaMetadata: true },
      { kind: 'remove-finalizer' },
    ]);
  });

  it('a new savepointTriggerNonce on a running, stable deployment asks for one savepoint (a FlinkStateSnapshot) and stays STABLE', () => {
    const p = plan(resource(spec({ savepointTriggerNonce: 1 }), stableStatus(spec())), {
      now: NOW,
      jobManager: present,
      rest: {
        reachable: true,
        jobs: [{ id: JOB_ID, name: 'j', state: 'RUNNING', startTime: 1, allTasksRunning: true }],
      },
    });
    expect(p.actions).to.deep.equal([
      { kind: 'create-snapshot', request: { snapshot: 'savepoint', triggerType: 'MANUAL', disposeOnDelete: true } },
    ]);
    expect(p.status.jobStatus?.savepointInfo).to.equal(undefined);
    expect(recorded(p)?.job.savepointTriggerNonce).to.equal(1);
    expect(p.status.lifecycleState).to.equal('STABLE');
  });

  describe('with Kubernetes HA (high-availability.type: kubernetes)', () => {
    const HA = { 'high-availability.type': 'kubernetes', 'high-availability.storageDir': 'file:///ha' };
    const haSpec = (job: Record<string, unknown>) => {
      const s = spec(job);
      s.flinkConfiguration = { ...s.flinkConfiguration, ...HA };
      return s;
    };
    const deployAction = (p: Plan) => {
      const action = p.actions[0];
      if (action?.kind !== 'deploy') throw new Error(`expected a deploy, got ${JSON.stringify(p.actions)}`);
      return action;
    };
    const confOf = (p: Plan) =>
      (
        deployAction(p).objects.dependents.find(
          (o) => (o.metadata as { name: string }).name === 'flink-config-orders',
        ) as { data: Record<string, string> }
      ).data['config.yaml']!;

    it("gives each deployment's job results a place of their own under the HA storage (upstream's FLINK-27569 workaround)", () => {
      const first = confOf(plan(resource(haSpec({}), undefined), absent));
      expect(first).to.contain(`job-result-store.storage-path: file:///ha/job-result-store/orders/${NEW_JOB_ID}`);
      expect(first).to.contain('job-result-store.delete-on-commit: false');
      expect(confOf(plan(resource(spec(), undefined), absent)), 'without HA: Flink keeps its default').to.not.contain(
        'job-result-store',
      );
      const on23 = { ...haSpec({}), flinkVersion: 'v2_3' };
      const conf23 = confOf(plan(resource(on23, undefined), absent));
      expect(conf23, "2.3's application results too").to.contain(
        `application-result-store.storage-path: file:///ha/application-result-store/orders/${NEW_JOB_ID}`,
      );
      expect(conf23).to.contain('application-result-store.delete-on-commit: false');
      expect(conf23, 'deprecated on 2.3').to.not.contain('job-result-store.delete-on-commit');
    });

    it('a last-state upgrade does not stop the job: its cluster goes with the HA metadata kept, and the same job comes back from it', () => {
      const deployed = haSpec({ upgradeMode: 'last-state' });
      const stop = plan(
        resource(haSpec({ upgradeMode: 'last-state', parallelism: 4 }), stableStatus(deployed)),
        running(),
      );
      expect(stop.actions).to.deep.equal([]);
      expect(stop.status.lifecycleState).to.equal('UPGRADING');
      expect(recorded(stop)?.job).to.include({ upgradeMode: 'last-state', state: 'suspended' });
      const deleting = plan(resource(haSpec({ upgradeMode: 'last-state', parallelism: 4 }), stop.status), running());
      expect(deleting.actions).to.deep.equal([{ kind: 'delete-cluster', deleteHaMetadata: false }]);
      const deploy = plan(resource(haSpec({ upgradeMode: 'last-state', parallelism: 4 }), stop.status), absent);
      expect(deployAction(deploy).deleteJobGraphs).to.equal(true);
      expect(deploy.status.jobStatus?.jobId, 'the job id HA metadata is kept under').to.equal(JOB_ID);
      expect(confOf(deploy))
        .to.contain(`$internal.pipeline.job-id: ${JOB_ID}`)
        .and.not.contain('execution.state-recovery.path');
    });

    it('suspend with last-state keeps the job in HA metadata (the cluster goes, nothing is cancelled); resume brings the same job back', () => {
      const running_ = haSpec({ upgradeMode: 'last-state' });
      const suspend = plan(
        resource(haSpec({ upgradeMode: 'last-state', state: 'suspended' }), stableStatus(running_)),
        running(),
      );
      expect(suspend.actions).to.deep.equal([]);
      expect(suspend.status.lifecycleState).to.equal('SUSPENDED');
      const gone = plan(resource(haSpec({ upgradeMode: 'last-state', state: 'suspended' }), suspend.status), running());
      expect(gone.actions).to.deep.equal([{ kind: 'delete-cluster', deleteHaMetadata: false }]);
      const resume = plan(
        resource(haSpec({ upgradeMode: 'last-state' }), { ...suspend.status, jobManagerDeploymentStatus: 'MISSING' }),
        absent,
      );
      expect(deployAction(resume).deleteJobGraphs).to.equal(true);
      expect(resume.status.jobStatus?.jobId).to.equal(JOB_ID);
    });

    it('a lost JobManager of a stateful job is recovered from HA metadata (same job id), else reported for a manual restore', () => {
      const deployed = haSpec({ upgradeMode: 'savepoint' });
      const recovered = plan(resource(deployed, stableStatus(deployed)), { ...absent, haMetadata: true });
      expect(recovered.events.map((e) => e.reason)).to.include.members(['Missing', 'RecoverDeployment']);
      expect(deployAction(recovered).deleteJobGraphs).to.equal(true);
      expect(recovered.status.jobStatus?.jobId).to.equal(JOB_ID);
      const lost = plan(resource(deployed, stableStatus(deployed)), { ...absent, haMetadata: false });
      expect(lost.actions).to.deep.equal([]);
      expect(lost.status.error).to.contain('Manual restore required.');
    });

    it('a savepoint upgrade still stops with a savepoint and starts a new job; without HA nothing deletes job graphs', () => {
      const deployed = haSpec({ upgradeMode: 'savepoint' });
      const p = plan(resource(haSpec({ upgradeMode: 'savepoint', parallelism: 4 }), stableStatus(deployed)), running());
      expect(p.actions[0]).to.include({ kind: 'stop-job', mechanism: 'savepoint' });
      const plain = plan(resource(spec(), undefined), absent);
      expect(plain.actions.find((a) => a.kind === 'deploy')).to.satisfy(
        (a: { deleteJobGraphs?: boolean } | undefined) => a === undefined || a.deleteJobGraphs === false,
      );
    });
  });

  it('a lost JobManager of a stateless job is recovered; of a stateful one, reported for a manual restore', () => {
    const stateless = spec({ upgradeMode: 'stateless' });
    const recovered = plan(resource(stateless, stableStatus(stateless)), absent);
    expect(recovered.events.map((e) => e.reason)).to.include.members(['Missing', 'RecoverDeployment']);
    expect(recovered.actions[0]?.kind).to.equal('deploy');
    const stateful = spec();
    const lost = plan(resource(stateful, stableStatus(stateful)), absent);
    expect(lost.actions).to.deep.equal([]);
    expect(lost.status.lifecycleState).to.equal('FAILED');
    expect(lost.status.error).to.contain('Manual restore required.');
  });

  it('a session cluster is stable once its REST API answers, and any change redeploys it (its HA metadata with it: nothing of it carries over)', () => {
    const session = { ...spec() };
    delete session.job;
    const status = {
      jobManagerDeploymentStatus: 'DEPLOYING',
      observedGeneration: 1,
      reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: envelope(session) },
    };
    const ready = plan(resource(session, status), {
      now: NOW,
      jobManager: present,
      rest: { reachable: true, jobs: [] },
    });
    expect(ready.status.lifecycleState).to.equal('STABLE');
    const changed = plan(resource({ ...session, image: 'flink:2.1' }, ready.status), {
      now: NOW,
      jobManager: present,
      rest: { reachable: true, jobs: [] },
    });
    expect(changed.status.lifecycleState).to.equal('UPGRADING');
    expect(changed.actions).to.deep.equal([{ kind: 'delete-cluster', deleteHaMetadata: true }]);
  });

  describe('rollback (notes §6.5)', () => {
    const rollbackConfig = {
      'kubernetes.operator.deployment.rollback.enabled': 'true',
      'kubernetes.operator.deployment.readiness.timeout': '10 s',
      'high-availability.type': 'kubernetes',
    };
    const failing = spec({ args: ['--fail-in-main'] });
    const deployedAt = NOW - 11_000;
    const failedStatus = (at: number) => ({
      jobManagerDeploymentStatus: 'READY',
      jobStatus: { jobId: JOB_ID, state: 'FAILED', upgradeSavepointPath: 'file:///sp/savepoint-5' },
      observedGeneration: 2,
      reconciliationStatus: {
        state: 'DEPLOYED',
        reconciliationTimestamp: at,
        lastReconciledSpec: envelope(failing),
        lastStableSpec: envelope(spec()),
      },
    });

    it('waits out the readiness timeout before rolling back, on the reconcile interval (a FAILED job will not change by itself)', () => {
      const p = plan(resource(failing, failedStatus(NOW - 5_000)), running('FAILED'), {
        ...rollbackConfig,
        'kubernetes.operator.reconcile.interval': '20 s',
      });
      expect(p.actions).to.deep.equal([]);
      expect(p.status.lifecycleState).to.equal('FAILED');
      expect(p.requeueAfterMs).to.equal(20_000);
    });

    it('past it: ROLLING_BACK with a Rollback event, the failing cluster deleted first', () => {
      const p = plan(resource(failing, failedStatus(deployedAt)), running('FAILED'), rollbackConfig);
      expect(p.status.lifecycleState).to.equal('ROLLING_BACK');
      expect(p.events.map((e) => e.reason)).to.include('Rollback');
      expect(p.actions).to.deep.equal([{ kind: 'delete-cluster', deleteHaMetadata: true }]);
      expect(p.status.reconciliationStatus?.lastReconciledSpec, "the user's spec stays recorded").to.equal(
        envelope(failing),
      );
    });

    it('then deploys the last stable spec from the snapshot the upgrade took, and ends ROLLED_BACK', () => {
      const rolling = {
        ...failedStatus(deployedAt),
        jobManagerDeploymentStatus: 'MISSING',
        reconciliationStatus: { ...failedStatus(deployedAt).reconciliationStatus, state: 'ROLLING_BACK' },
      };
      const p = plan(resource(failing, rolling), absent, rollbackConfig);
      const deploy = p.actions[0]!;
      expect(deploy.kind).to.equal('deploy');
      if (deploy.kind !== 'deploy') return;
      const config = (deploy.objects.dependents[0] as { data: Record<string, string> }).data['config.yaml']!;
      expect(config).to.contain('execution.state-recovery.path: file:///sp/savepoint-5');
      expect(config, 'the stable spec, not the failing one').to.not.contain('--fail-in-main');
      expect(deploy.statusAfter.lifecycleState).to.equal('ROLLED_BACK');
      expect(deploy.statusAfter.reconciliationStatus?.lastReconciledSpec).to.equal(envelope(failing));
    });

    it('never rolls back when disabled, into a suspended stable spec, or across Flink versions', () => {
      expect(
        plan(resource(failing, failedStatus(deployedAt)), running('FAILED'), { 'high-availability.type': 'kubernetes' })
          .actions,
      ).to.deep.equal([]);
      const suspendedStable = {
        ...failedStatus(deployedAt),
        reconciliationStatus: {
          ...failedStatus(deployedAt).reconciliationStatus,
          lastStableSpec: envelope(spec({ state: 'suspended' })),
        },
      };
      expect(plan(resource(failing, suspendedStable), running('FAILED'), rollbackConfig).actions).to.deep.equal([]);
      const otherVersion = {
        ...failedStatus(deployedAt),
        reconciliationStatus: {
          ...failedStatus(deployedAt).reconciliationStatus,
          lastStableSpec: envelope({ ...spec(), flinkVersion: 'v2_1' }),
        },
      };
      expect(plan(resource(failing, otherVersion), running('FAILED'), rollbackConfig).actions).to.deep.equal([]);
    });
  });

  it('is woken by spec, deletion, finalizer and label changes, never by a status write alone', () => {
    const meta = { generation: 3, finalizers: [FINALIZER], labels: { app: 'orders' } };
    const trigger = reconcileTrigger(meta);
    expect(
      reconcileTrigger({ ...meta, resourceVersion: '99', annotations: { x: 'y' } } as typeof meta),
      'a status write: only resourceVersion moved',
    ).to.equal(trigger);
    expect(reconcileTrigger({ ...meta, generation: 4 })).to.not.equal(trigger);
    expect(reconcileTrigger({ ...meta, deletionTimestamp: '2026-11-30T00:00:00Z' } as typeof meta)).to.not.equal(
      trigger,
    );
    expect(reconcileTrigger({ ...meta, finalizers: [] })).to.not.equal(trigger);
    expect(reconcileTrigger({ ...meta, labels: { 'flink.apache.org/canary': 'true' } })).to.not.equal(trigger);
  });
});

describe('a failed step in the status', () => {
  it("is upstream's error document; a resource never deployed becomes FAILED, a deployed one keeps its lifecycle state", () => {
    const first = failedStepStatus<FlinkDeploymentStatus>({}, 'FlinkDeployment', 'no JobManager image');
    expect(JSON.parse(first.error!)).to.deep.equal({
      type: 'org.apache.flink.kubernetes.operator.exception.ReconciliationException',
      message: 'no JobManager image',
    });
    expect(first.lifecycleState).to.equal('FAILED');
    const spec = writeSpecEnvelope({
      spec: { job: { state: 'running' } },
      apiVersion: 'flink.apache.org/v1beta1',
      firstDeployment: false,
    });
    const stable = {
      reconciliationStatus: { state: 'DEPLOYED' as const, lastReconciledSpec: spec, lastStableSpec: spec },
      jobManagerDeploymentStatus: 'READY' as const,
      lifecycleState: 'STABLE' as const,
    };
    expect(failedStepStatus(stable, 'FlinkSessionJob', 'Flink REST unreachable')).to.include({
      lifecycleState: 'STABLE',
      jobManagerDeploymentStatus: 'READY',
    });
  });
});
