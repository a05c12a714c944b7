// What the JobManager Deployment says, as the planner reads it — and a ReplicaFailure (pods that cannot be created:
// a missing ServiceAccount, a quota, Pod Security) or containers that cannot run (a crash loop, an image that cannot
// be pulled) surfaced as upstream's DeploymentFailedException does it.
import { expect } from 'chai';
import { GENERATION_ANNOTATION, OVERRIDES_ANNOTATION } from '../../api/cluster/objects.js';
import {
  containerFailure,
  crashLogWanted,
  DEPLOYMENT_FAILED_TYPE,
  observeJobManagerDeployment,
  observeStatus,
  rootCause,
  withLogCause,
} from '../../api/reconcile/observe.js';
import { writeSpecEnvelope } from '../../api/spec-envelope.js';

const failedCreate = {
  type: 'ReplicaFailure',
  status: 'True',
  reason: 'FailedCreate',
  message:
    'pods "orders-5c9" is forbidden: error looking up service account prod/flink: serviceaccount "flink" not found',
};

describe('observing the JobManager Deployment', () => {
  it('reads absence, deletion, the generation and parallelism overrides it was made for, and availability', () => {
    expect(observeJobManagerDeployment(undefined)).to.deep.equal({ phase: 'absent' });
    expect(observeJobManagerDeployment({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } })).to.deep.equal({
      phase: 'deleting',
    });
    expect(
      observeJobManagerDeployment({
        metadata: { annotations: { [GENERATION_ANNOTATION]: '3' } },
        status: { availableReplicas: 1 },
      }),
    ).to.deep.equal({ phase: 'present', generation: 3, overrides: '', available: true });
    expect(
      observeJobManagerDeployment({
        metadata: { annotations: { [GENERATION_ANNOTATION]: '3', [OVERRIDES_ANNOTATION]: 'ab:2' } },
      }),
    ).to.deep.include({ generation: 3, overrides: 'ab:2' });
  });

  it('reads a ReplicaFailure condition that is True, and ignores one that is False', () => {
    const failing = observeJobManagerDeployment({ status: { conditions: [failedCreate] } });
    expect(failing).to.deep.include({
      phase: 'present',
      available: false,
      replicaFailure: { reason: 'FailedCreate', message: failedCreate.message },
    });
    expect(
      observeJobManagerDeployment({ status: { conditions: [{ ...failedCreate, status: 'False' }] } }),
    ).to.not.have.property('replicaFailure');
  });

  const deployed = {
    jobManagerDeploymentStatus: 'DEPLOYING' as const,
    jobStatus: { jobId: 'a'.repeat(32), state: 'RECONCILING' as const },
    reconciliationStatus: {
      state: 'DEPLOYED' as const,
      lastReconciledSpec: writeSpecEnvelope({
        spec: { job: { state: 'running' } },
        apiVersion: 'flink.apache.org/v1beta1',
        firstDeployment: true,
      }),
    },
  };
  const jm = observeJobManagerDeployment({ status: { conditions: [failedCreate] } });

  it("a JobManager whose pods cannot be created is ERROR, with Kubernetes' message in the error, and one event the first time", () => {
    const first = observeStatus('orders', 1, deployed, { now: 1, jobManager: jm });
    expect(first.status.jobManagerDeploymentStatus).to.equal('ERROR');
    expect(JSON.parse(first.status.error!)).to.deep.equal({
      type: DEPLOYMENT_FAILED_TYPE,
      message: failedCreate.message,
    });
    expect(first.status.jobStatus?.state).to.equal('RECONCILING');
    expect(first.replicaFailure).to.deep.equal({ reason: 'FailedCreate', message: failedCreate.message });
    const again = observeStatus('orders', 1, first.status, { now: 2, jobManager: jm });
    expect(again.replicaFailure, 'no second event while it lasts').to.equal(undefined);
  });
});

describe('a JobManager container that cannot run', () => {
  const flinkLogTail = [
    '2026-12-01 06:01:02,345 ERROR org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Fatal error occurred in the cluster entrypoint.',
    'java.util.concurrent.CompletionException: org.apache.flink.client.deployment.application.ApplicationExecutionException: Could not execute application.',
    '\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(Unknown Source) ~[?:?]',
    'Caused by: org.apache.flink.runtime.client.JobInitializationException: Could not start the JobMaster.',
    '\t... 12 more',
    "Caused by: java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory 'file:/flink-data/savepoints/sp-1' on file system 'file'.",
    '\t... 8 more',
    '2026-12-01 06:01:02,400 INFO  org.apache.flink.runtime.blob.BlobServer [] - Stopped BLOB server at 0.0.0.0:6124',
  ].join('\n');
  const crashLooping = (lastState: object) => ({
    metadata: { name: 'jm-1' },
    status: {
      containerStatuses: [
        { name: 'sidecar', state: { running: {} } },
        {
          name: 'flink-main-container',
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: 'back-off 10s restarting failed container=flink-main-container pod=p',
            },
          },
          lastState,
        },
      ],
    },
  });

  const cases: [string, Parameters<typeof containerFailure>[0], ReturnType<typeof containerFailure>][] = [
    ['no pods', [], undefined],
    [
      'all running',
      [{ status: { containerStatuses: [{ name: 'flink-main-container', state: { running: {} } }] } }],
      undefined,
    ],
    [
      'waiting to be created is not an error',
      [
        {
          status: {
            containerStatuses: [{ name: 'flink-main-container', state: { waiting: { reason: 'ContainerCreating' } } }],
          },
        },
      ],
      undefined,
    ],
    [
      'a crash loop: the root cause of its log tail',
      [crashLooping({ terminated: { exitCode: 1, message: flinkLogTail } })],
      {
        reason: 'CrashLoopBackOff',
        message:
          "[flink-main-container] CrashLoop - java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory 'file:/flink-data/savepoints/sp-1' on file system 'file'.",
        pod: 'jm-1',
        container: 'flink-main-container',
      },
    ],
    [
      'a crash loop with no message: its exit code',
      [crashLooping({ terminated: { exitCode: 137 } })],
      {
        reason: 'CrashLoopBackOff',
        message: '[flink-main-container] CrashLoop - exit code 137',
        pod: 'jm-1',
        container: 'flink-main-container',
      },
    ],
    [
      'a crash loop not yet terminated: the waiting message',
      [crashLooping({})],
      {
        reason: 'CrashLoopBackOff',
        message: '[flink-main-container] back-off 10s restarting failed container=flink-main-container pod=p',
        pod: 'jm-1',
        container: 'flink-main-container',
      },
    ],
    [
      'an image that cannot be pulled, in an init container',
      [
        {
          metadata: { name: 'jm-2' },
          status: {
            initContainerStatuses: [
              {
                name: 'fetch',
                state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"' } },
              },
            ],
          },
        },
      ],
      {
        reason: 'ImagePullBackOff',
        message: '[fetch] Back-off pulling image "nope:1"',
        pod: 'jm-2',
        container: 'fetch',
      },
    ],
  ];
  for (const [name, pods, expected] of cases) {
    it(name, () => expect(containerFailure(pods)).to.deep.equal(expected));
  }

  it('the root cause of a log: the last Caused by, else the last exception, else the last line', () => {
    expect(rootCause('x\nCaused by: a.B: one\nCaused by: c.DException: two\n\tat x\n')).to.equal('c.DException: two');
    expect(
      rootCause('starting\n12:00 ERROR Entrypoint - failed: org.example.BadThingException: it broke\nbye'),
    ).to.equal('org.example.BadThingException: it broke');
    expect(rootCause('starting\nOut of memory, exiting\n\n')).to.equal('Out of memory, exiting');
    expect(rootCause('')).to.equal('');
  });

  it('a crash loop told by its own log: the root cause a hundred lines above the shutdown the termination message holds', () => {
    const shutdownTail = crashLooping({
      terminated: { exitCode: 1, message: '06:00:01 INFO Remoting - Remoting shut down.' },
    });
    const failure = containerFailure([shutdownTail])!;
    expect(failure.message).to.equal('[flink-main-container] CrashLoop - 06:00:01 INFO Remoting - Remoting shut down.');
    const log = `${flinkLogTail}\n${'06:00:01 INFO Remoting - Remoting shut down.\n'.repeat(100)}`;
    expect(withLogCause(failure, log).message).to.equal(
      "[flink-main-container] CrashLoop - java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory 'file:/flink-data/savepoints/sp-1' on file system 'file'.",
    );
    expect(withLogCause(failure, ''), 'an empty log changes nothing').to.deep.equal(failure);
  });

  it('only a crash loop newly seen has its log read', () => {
    const looping = containerFailure([crashLooping({ terminated: { exitCode: 1 } })]);
    expect(crashLogWanted(looping, { jobManagerDeploymentStatus: 'DEPLOYING' })).to.equal(true);
    expect(crashLogWanted(looping, { jobManagerDeploymentStatus: 'ERROR' }), 'its error is already written').to.equal(
      false,
    );
    expect(
      crashLogWanted({ reason: 'ImagePullBackOff', message: 'm', pod: 'p', container: 'c' }, undefined),
      'no log to read',
    ).to.equal(false);
    expect(crashLogWanted(undefined, undefined)).to.equal(false);
  });

  it('surfaces as ERROR with the cause, as a ReplicaFailure does, written once', () => {
    const deployed = {
      jobManagerDeploymentStatus: 'READY' as const,
      jobStatus: { jobId: 'a'.repeat(32), state: 'RUNNING' as const },
      reconciliationStatus: {
        state: 'DEPLOYED' as const,
        lastReconciledSpec: writeSpecEnvelope({
          spec: { job: { state: 'running' } },
          apiVersion: 'flink.apache.org/v1beta1',
          firstDeployment: true,
        }),
      },
    };
    const failure = containerFailure([crashLooping({ terminated: { exitCode: 1, message: flinkLogTail } })])!;
    const seen = observeStatus('orders', 1, deployed, {
      now: 1,
      jobManager: { phase: 'present', generation: 1, available: false, replicaFailure: failure },
    });
    expect(seen.status).to.include({ jobManagerDeploymentStatus: 'ERROR' });
    expect(JSON.parse(seen.status.error!)).to.deep.equal({ type: DEPLOYMENT_FAILED_TYPE, message: failure.message });
    expect(seen.status.jobStatus?.state).to.equal('RECONCILING');
    expect(seen.replicaFailure).to.deep.equal({ reason: failure.reason, message: failure.message });
    const later = observeStatus('orders', 1, seen.status, {
      now: 2,
      jobManager: {
        phase: 'present',
        generation: 1,
        available: false,
        replicaFailure: { reason: 'CrashLoopBackOff', message: 'another tail' },
      },
    });
    expect(later.status.error, 'kept while it lasts').to.equal(seen.status.error);
    expect(later.replicaFailure).to.equal(undefined);
  });
});
