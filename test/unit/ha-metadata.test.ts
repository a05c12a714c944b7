// Which ConfigMaps are Flink's Kubernetes HA metadata, which hold a job to recover, which keys are job graphs —
// names as Flink 2.x writes them (and the older `-leader` ones).
import { expect } from 'chai';
import { holdsJob, isHaConfigMap, isJobGraphKey } from '../../api/cluster/ha-metadata.js';

describe('Flink Kubernetes HA metadata', () => {
  const JOB = 'ab0e67fdfc2345cacd8c885e17055431';

  it("is the cluster ConfigMap and a job ConfigMap, never the cluster configuration or another cluster's", () => {
    expect(isHaConfigMap('orders-cluster-config-map', 'orders')).to.equal(true);
    expect(isHaConfigMap(`orders-${JOB}-config-map`, 'orders')).to.equal(true);
    expect(isHaConfigMap('orders-jobmanager-leader', 'orders')).to.equal(true);
    expect(isHaConfigMap('flink-config-orders', 'orders')).to.equal(false);
    expect(isHaConfigMap('orders-pod-template', 'orders')).to.equal(false);
    expect(isHaConfigMap('payments-cluster-config-map', 'orders')).to.equal(false);
  });

  it('holds a job to recover when a job ConfigMap (or an old JobManager leader one) is there; the cluster one alone does not', () => {
    expect(holdsJob(`orders-${JOB}-config-map`)).to.equal(true);
    expect(holdsJob('orders-jobmanager-leader')).to.equal(true);
    expect(holdsJob('orders-cluster-config-map')).to.equal(false);
    expect(holdsJob('orders-restserver-leader')).to.equal(false);
  });

  it('job graphs are executionPlan- (Flink 2) and jobGraph- (before) entries; checkpoints and leaders stay', () => {
    expect(
      [
        `executionPlan-${JOB}`,
        `jobGraph-${JOB}`,
        'checkpointID-0000000000000000007',
        'counter',
        'org.apache.flink.k8s.leader.dispatcher',
      ].map(isJobGraphKey),
    ).to.deep.equal([true, true, false, false, false]);
  });
});
