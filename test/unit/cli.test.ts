// What `kubectl flink` decides and shows, without a cluster: names, patches, rollback, savepoint requests, tables,
// the status screen and its exit codes — expected values written by hand.
import { expect } from 'chai';
import {
  didYouMean,
  diffPaths,
  jobStatePatch,
  parseTargetName,
  restartPatch,
  rollbackPlan,
  savepointRequest,
} from '../../api/cli/operations.js';
import { errorLine, formatTable, humanDuration, listTable, statusLines, statusVerdict } from '../../api/cli/views.js';
import { writeSpecEnvelope } from '../../api/spec-envelope.js';
import type { Json } from '../../api/validation/access.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const job = (over: Record<string, unknown> = {}) => ({
  jarURI: 'local:///x.jar',
  parallelism: 2,
  state: 'running',
  upgradeMode: 'savepoint',
  ...over,
});
const deployment = (spec: Record<string, unknown> = { job: job() }, status: Record<string, unknown> = {}) => ({
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkDeployment',
  metadata: {
    name: 'orders',
    namespace: 'prod',
    uid: 'u-1',
    creationTimestamp: '2026-11-30T11:00:00Z',
    generation: 3,
    resourceVersion: '7',
  },
  spec: { flinkVersion: 'v2_2', mode: 'native', ...spec },
  status,
});

describe('kubectl flink: what a verb decides', () => {
  it('reads NAME, deployment/NAME and sessionjob/NAME; refuses other kinds with what to type', () => {
    expect(parseTargetName('orders')).to.deep.equal({ kinds: ['FlinkDeployment', 'FlinkSessionJob'], name: 'orders' });
    expect(parseTargetName('deployment/orders')).to.deep.equal({ kinds: ['FlinkDeployment'], name: 'orders' });
    expect(parseTargetName('sessionjob/orders')).to.deep.equal({ kinds: ['FlinkSessionJob'], name: 'orders' });
    expect(parseTargetName('pod/orders')).to.equal('"pod" is not a kind here: use deployment/NAME or sessionjob/NAME');
    expect(parseTargetName('deployment/')).to.equal('no name after "deployment/"');
  });

  it('suggests the name a user most likely meant, and nothing far off', () => {
    expect(didYouMean('ordrs', ['orders', 'payments'])).to.equal('orders');
    expect(didYouMean('order', ['orders-eu', 'payments'])).to.equal('orders-eu');
    expect(didYouMean('zzz', ['orders', 'payments'])).to.equal(undefined);
  });

  it('suspend and resume patch spec.job.state, and say when there is nothing to do', () => {
    expect(jobStatePatch(deployment(), 'suspended')).to.deep.equal({
      patch: { spec: { job: { state: 'suspended' } } },
      change: 'suspended',
    });
    expect(jobStatePatch(deployment({ job: job({ state: 'suspended' }) }), 'running')).to.deep.equal({
      patch: { spec: { job: { state: 'running' } } },
      change: 'resumed',
    });
    expect(jobStatePatch(deployment(), 'running')).to.deep.equal({
      refused: 'FlinkDeployment "orders" is already running',
    });
    expect(jobStatePatch(deployment({}), 'suspended'))
      .to.have.property('refused')
      .that.match(/is a session cluster: it has no job to suspend/);
  });

  it('restart bumps restartNonce past both the clock and its current value', () => {
    expect(restartPatch(deployment(), NOW)).to.deep.equal({
      patch: { spec: { restartNonce: NOW } },
      change: 'restarted',
    });
    expect(restartPatch(deployment({ job: job(), restartNonce: NOW + 5 }), NOW)).to.deep.equal({
      patch: { spec: { restartNonce: NOW + 6 } },
      change: 'restarted',
    });
  });

  it("rollback writes the last stable spec back (the job state stays the user's), listing what changes; explains when it cannot", () => {
    const stable = { flinkVersion: 'v2_2', mode: 'native', job: job({ state: 'running' }) };
    const status = {
      reconciliationStatus: {
        lastStableSpec: writeSpecEnvelope({
          spec: stable,
          apiVersion: 'flink.apache.org/v1beta1',
          firstDeployment: false,
        }),
      },
    };
    const plan = rollbackPlan(deployment({ job: job({ parallelism: 0 }), flinkConfiguration: { 'a.b': '1' } }, status));
    expect(plan).to.deep.equal({ spec: stable, changedPaths: ['spec.flinkConfiguration', 'spec.job.parallelism'] });
    expect(rollbackPlan(deployment({ job: job() }, status))).to.deep.equal({
      refused: 'FlinkDeployment "orders" already runs its last stable spec: nothing to roll back',
    });
    expect(rollbackPlan(deployment()))
      .to.have.property('refused')
      .that.match(/has never been STABLE/);
    expect(diffPaths({ a: { 'x.y': 1 } }, { a: { 'x.y': 2 } }, 'spec')).to.deep.equal(['spec.a["x.y"]']);
  });

  it("rollback leaves out the parallelism overrides the autoscaler merged into the stable spec, keeping the user's own", () => {
    const autoscaled = (overrides?: string) => ({
      'job.autoscaler.enabled': 'true',
      ...(overrides ? { 'pipeline.jobvertex-parallelism-overrides': overrides } : {}),
    });
    const status = {
      reconciliationStatus: {
        lastStableSpec: writeSpecEnvelope({
          spec: {
            flinkVersion: 'v2_2',
            mode: 'native',
            job: job({ parallelism: 2 }),
            flinkConfiguration: autoscaled('a:4,b:4'),
          },
          apiVersion: 'flink.apache.org/v1beta1',
          firstDeployment: false,
        }),
      },
    };
    const plan = rollbackPlan(deployment({ job: job({ parallelism: 3 }), flinkConfiguration: autoscaled() }, status));
    expect(plan).to.deep.include({ changedPaths: ['spec.job.parallelism'] });
    const mine = rollbackPlan(
      deployment({ job: job({ parallelism: 3 }), flinkConfiguration: autoscaled('a:1') }, status),
    );
    expect(mine).to.have.nested.property('spec.flinkConfiguration').that.deep.equals(autoscaled('a:1'));
  });

  it('a savepoint is a FlinkStateSnapshot owned by the job, as the operator makes for a manual trigger, or the nonce where the resource turned snapshot resources off', () => {
    expect(savepointRequest(deployment(), {}, NOW)).to.deep.equal({
      snapshot: {
        apiVersion: 'flink.apache.org/v1beta1',
        kind: 'FlinkStateSnapshot',
        metadata: {
          name: `orders-savepoint-manual-${NOW}`,
          namespace: 'prod',
          labels: { 'snapshot.trigger-type': 'MANUAL' },
          ownerReferences: [
            {
              apiVersion: 'flink.apache.org/v1beta1',
              kind: 'FlinkDeployment',
              name: 'orders',
              uid: 'u-1',
              controller: false,
              blockOwnerDeletion: false,
            },
          ],
        },
        spec: {
          jobReference: { kind: 'FlinkDeployment', name: 'orders' },
          backoffLimit: -1,
          savepoint: { formatType: 'CANONICAL', disposeOnDelete: true, alreadyExists: false },
        },
      },
    });
    const legacy = deployment({
      job: job(),
      flinkConfiguration: { 'kubernetes.operator.snapshot.resource.enabled': 'false' },
    });
    expect(savepointRequest(legacy, {}, NOW)).to.deep.equal({
      patch: { spec: { job: { savepointTriggerNonce: NOW } } },
    });
    expect(savepointRequest(deployment({}), {}, NOW)).to.have.property('refused');
  });
});

describe('kubectl flink: what it shows', () => {
  it('ages as kubectl prints them', () => {
    expect(
      [
        5_000,
        119_000,
        200_000,
        45 * 60_000,
        5.5 * 3600_000,
        30 * 3600_000,
        3.25 * 86_400_000,
        20 * 86_400_000,
        800 * 86_400_000,
      ].map(humanDuration),
    ).to.deep.equal(['5s', '119s', '3m20s', '45m', '5h30m', '30h', '3d6h', '20d', '2y']);
  });

  it("lists both kinds in kubectl's table style, with a NAMESPACE column for -A and more columns for -o wide", () => {
    const session = {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkSessionJob',
      metadata: { name: 'etl', namespace: 'prod', creationTimestamp: '2026-11-30T11:59:00Z' },
      spec: { deploymentName: 's' },
      status: { jobStatus: { state: 'RUNNING' }, lifecycleState: 'STABLE' },
    };
    const table = listTable(
      [
        session,
        deployment(
          { job: job() },
          { lifecycleState: 'STABLE', jobStatus: { state: 'RUNNING', jobId: 'a'.repeat(32) } },
        ),
      ],
      { now: NOW, wide: false, allNamespaces: true },
    );
    expect(formatTable(table)).to.deep.equal([
      'NAMESPACE   NAME     KIND              MODE                 FLINK   JOB       LIFECYCLE   AGE',
      'prod        etl      FlinkSessionJob   session-job                  RUNNING   STABLE      60s',
      'prod        orders   FlinkDeployment   native/application   v2_2    RUNNING   STABLE      60m',
    ]);
    expect(listTable([], { now: NOW, wide: true, allNamespaces: false }).headers).to.deep.equal([
      'NAME',
      'KIND',
      'MODE',
      'FLINK',
      'JOB',
      'LIFECYCLE',
      'AGE',
      'JOB ID',
      'RECONCILIATION',
      'SESSION',
    ]);
  });

  it("status on one screen: lifecycle, job, JobManager, reconciliation, last savepoint, the error's first line, the UI, events", () => {
    const status = {
      lifecycleState: 'FAILED',
      jobManagerDeploymentStatus: 'READY',
      observedGeneration: 3,
      reconciliationStatus: { state: 'DEPLOYED' },
      jobStatus: {
        state: 'FAILED',
        jobId: 'a'.repeat(32),
        startTime: String(NOW - 120_000),
        savepointInfo: {
          lastSavepoint: { location: 'file:///sp/savepoint-1', timeStamp: NOW - 60_000, triggerType: 'MANUAL' },
        },
      },
      error: JSON.stringify({
        type: 'org.apache.flink.runtime.JobException',
        message: 'Recovery is suppressed\nby NoRestartBackoffTimeStrategy',
      }),
    };
    const lines = statusLines({
      resource: deployment({ job: job() }, status),
      events: [{ type: 'Warning', reason: 'Error', message: 'first\nsecond', lastTimestamp: '2026-11-30T11:59:30Z' }],
      now: NOW,
    });
    expect(lines).to.deep.equal([
      'Name:            orders (FlinkDeployment, namespace prod)',
      'Lifecycle:       FAILED',
      `Job:             FAILED  ${'a'.repeat(32)} (started 2m ago)`,
      'Desired:         running, upgrade mode savepoint',
      'JobManager:      READY',
      'Reconciliation:  DEPLOYED (generation 3 of 3 reconciled)',
      'Last savepoint:  file:///sp/savepoint-1 (60s ago, MANUAL)',
      'Error:           Recovery is suppressed',
      'Flink UI:        http://orders-rest.prod:8081 (inside the cluster; kubectl port-forward svc/orders-rest 8081)',
      'Events:',
      '  TYPE      REASON   AGE   MESSAGE',
      '  Warning   Error    30s   first',
    ]);
    expect(errorLine('plain text\nmore')).to.equal('plain text');
  });

  describe('exit codes: FAILED is 1; watching ends once the resource settles where its spec asks', () => {
    const VALIDATION = JSON.stringify({
      type: 'org.apache.flink.kubernetes.operator.exception.ValidationException',
      message: 'spec.job.parallelism: must be ≥ 1',
    });
    const deployment = (job: string, status: Record<string, unknown>, observed = 2): Json => ({
      kind: 'FlinkDeployment',
      metadata: { name: 'orders', generation: 2 },
      spec: { job: { state: job } },
      status: { observedGeneration: observed, ...status },
    });
    const rows: [string, Json, { exitCode: 0 | 1; final: boolean }][] = [
      [
        'running, STABLE',
        deployment('running', { lifecycleState: 'STABLE', jobManagerDeploymentStatus: 'READY' }),
        { exitCode: 0, final: true },
      ],
      ['running, DEPLOYED', deployment('running', { lifecycleState: 'DEPLOYED' }), { exitCode: 0, final: false }],
      ['FAILED', deployment('running', { lifecycleState: 'FAILED' }), { exitCode: 1, final: true }],
      ['ROLLED_BACK', deployment('running', { lifecycleState: 'ROLLED_BACK' }), { exitCode: 1, final: true }],
      [
        'no status yet',
        { kind: 'FlinkDeployment', metadata: { generation: 1 }, spec: {} },
        { exitCode: 0, final: false },
      ],
      [
        'suspended, SUSPENDED, cluster gone',
        deployment('suspended', { lifecycleState: 'SUSPENDED', jobManagerDeploymentStatus: 'MISSING' }),
        { exitCode: 0, final: true },
      ],
      [
        'suspended, SUSPENDED, cluster still being deleted',
        deployment('suspended', { lifecycleState: 'SUSPENDED', jobManagerDeploymentStatus: 'READY' }),
        { exitCode: 0, final: false },
      ],
      [
        'suspended, still STABLE (the suspend not yet taken up)',
        deployment('suspended', { lifecycleState: 'STABLE', jobManagerDeploymentStatus: 'READY' }, 1),
        { exitCode: 0, final: false },
      ],
      [
        'resumed, still SUSPENDED',
        deployment('running', { lifecycleState: 'SUSPENDED', jobManagerDeploymentStatus: 'MISSING' }),
        { exitCode: 0, final: false },
      ],
      [
        'a fix applied to a FAILED job, not yet taken up',
        deployment('running', { lifecycleState: 'FAILED' }, 1),
        { exitCode: 1, final: false },
      ],
      [
        'a spec the operator refused (observedGeneration stays behind)',
        deployment('running', { lifecycleState: 'STABLE', error: VALIDATION }, 1),
        { exitCode: 1, final: true },
      ],
      [
        'a session job suspended, SUSPENDED',
        {
          kind: 'FlinkSessionJob',
          metadata: { generation: 2 },
          spec: { job: { state: 'suspended' } },
          status: { observedGeneration: 2, lifecycleState: 'SUSPENDED' },
        },
        { exitCode: 0, final: true },
      ],
      [
        'a session cluster, STABLE',
        {
          kind: 'FlinkDeployment',
          metadata: { generation: 1 },
          spec: {},
          status: { observedGeneration: 1, lifecycleState: 'STABLE' },
        },
        { exitCode: 0, final: true },
      ],
    ];
    for (const [what, resource, verdict] of rows)
      it(what, () => expect(statusVerdict(resource)).to.deep.equal(verdict));
  });
});
