// What the JobManager Deployment says, as the planner reads it — and a ReplicaFailure (pods that cannot be created:
// a missing ServiceAccount, a quota, Pod Security) surfaced as upstream's DeploymentFailedException does it.
import { expect } from 'chai';
import { GENERATION_ANNOTATION } from '../../api/cluster/objects.js';
import { DEPLOYMENT_FAILED_TYPE, observeJobManagerDeployment, observeStatus } from '../../api/reconcile/observe.js';
import { writeSpecEnvelope } from '../../api/spec-envelope.js';

const failedCreate = {
  type: 'ReplicaFailure',
  status: 'True',
  reason: 'FailedCreate',
  message: 'pods "orders-5c9" is forbidden: error looking up service account prod/flink: serviceaccount "flink" not found',
};

describe('observing the JobManager Deployment', () => {
  it('reads absence, deletion, the generation it was made for and availability', () => {
    expect(observeJobManagerDeployment(undefined)).to.deep.equal({ phase: 'absent' });
    expect(observeJobManagerDeployment({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } })).to.deep.equal({ phase: 'deleting' });
    expect(observeJobManagerDeployment({ metadata: { annotations: { [GENERATION_ANNOTATION]: '3' } }, status: { availableReplicas: 1 } })).to.deep.equal({ phase: 'present', generation: 3, available: true });
  });

  it('reads a ReplicaFailure condition that is True, and ignores one that is False', () => {
    const failing = observeJobManagerDeployment({ status: { conditions: [failedCreate] } });
    expect(failing).to.deep.include({ phase: 'present', available: false, replicaFailure: { reason: 'FailedCreate', message: failedCreate.message } });
    expect(observeJobManagerDeployment({ status: { conditions: [{ ...failedCreate, status: 'False' }] } })).to.not.have.property('replicaFailure');
  });

  const deployed = {
    jobManagerDeploymentStatus: 'DEPLOYING' as const,
    jobStatus: { jobId: 'a'.repeat(32), state: 'RECONCILING' as const },
    reconciliationStatus: { state: 'DEPLOYED' as const, lastReconciledSpec: writeSpecEnvelope({ spec: { job: { state: 'running' } }, apiVersion: 'flink.apache.org/v1beta1', firstDeployment: true }) },
  };
  const jm = observeJobManagerDeployment({ status: { conditions: [failedCreate] } });

  it('a JobManager whose pods cannot be created is ERROR, with Kubernetes\' message in the error, and one event the first time', () => {
    const first = observeStatus('orders', 1, deployed, { now: 1, jobManager: jm });
    expect(first.status.jobManagerDeploymentStatus).to.equal('ERROR');
    expect(JSON.parse(first.status.error!)).to.deep.equal({ type: DEPLOYMENT_FAILED_TYPE, message: failedCreate.message });
    expect(first.status.jobStatus?.state).to.equal('RECONCILING');
    expect(first.replicaFailure).to.deep.equal({ reason: 'FailedCreate', message: failedCreate.message });
    const again = observeStatus('orders', 1, first.status, { now: 2, jobManager: jm });
    expect(again.replicaFailure, 'no second event while it lasts').to.equal(undefined);
  });
});
