import { expect } from 'chai';
import { localFlinkConfig, readFlatFlinkConfig } from '../../local/flink/local-config.js';
import { localizeRequestBody } from '../../local/flink/pod-filesystem.js';
import { limitLog } from '../../local/flink/kubelet-logs.js';

const placement = {
  ports: { rest: 20001, rpc: 20002 },
  filesRoot: '/state/files',
  examplesJar: '/cache/flink-examples.jar',
  autoscalingJar: '/cache/autoscaling.jar',
};

describe("a JobManager pod's Flink configuration, made local", () => {
  const pod = readFlatFlinkConfig(
    [
      'taskmanager.numberOfTaskSlots: 2',
      'parallelism.default: 4',
      'pipeline.jars: local:///opt/flink/examples/streaming/StateMachineExample.jar',
      "execution.checkpointing.dir: 'file:///flink-data/checkpoints'",
      'execution.savepoint.path: file:/state/files/flink-data/savepoints/savepoint-1',
      'rest.port: 8081',
      'kubernetes.cluster-id: orders',
      'high-availability.type: kubernetes',
      '$internal.application.program-args: --a;1',
    ].join('\n'),
  );
  const local = localFlinkConfig(pod, placement);

  it('moves every port to the chosen loopback ports', () => {
    expect(local).to.include({
      'rest.port': '20001',
      'rest.bind-address': '127.0.0.1',
      'jobmanager.rpc.port': '20002',
      'taskmanager.host': '127.0.0.1',
    });
  });
  it('gives each TaskManager the configured slots (the launcher starts as many as the job asks for)', () =>
    expect(local['taskmanager.numberOfTaskSlots']).to.equal('2'));
  it("runs the stand-in for Flink's example jars", () =>
    expect(local['pipeline.jars']).to.equal('file:///cache/flink-examples.jar'));
  it('maps a pod path into the state directory, and a path Flink reported from there not twice', () => {
    expect(local['execution.checkpointing.dir']).to.equal('file:///state/files/flink-data/checkpoints');
    expect(local['execution.savepoint.path']).to.equal('file:/state/files/flink-data/savepoints/savepoint-1');
  });
  it("with a ServiceAccount kubeconfig, keeps what Flink's Kubernetes HA services read, its storage on the pod's volume", () => {
    const ha = localFlinkConfig(
      {
        ...pod,
        'high-availability.storageDir': 'file:///flink-data/ha',
        'kubernetes.namespace': 'prod',
        'kubernetes.container.image.ref': 'flink:2.2',
      },
      { ...placement, kubeconfig: '/state/flink/pod/conf/kubeconfig' },
    );
    expect(ha).to.include({
      'high-availability.type': 'kubernetes',
      'high-availability.storageDir': 'file:///state/files/flink-data/ha',
      'kubernetes.cluster-id': 'orders',
      'kubernetes.namespace': 'prod',
      'kubernetes.config.file': '/state/flink/pod/conf/kubeconfig',
    });
    expect(ha).to.not.have.any.keys('kubernetes.container.image.ref');
  });
  it("drops what only real Kubernetes needs, keeps the job's own keys", () => {
    expect(local).to.not.have.any.keys('kubernetes.cluster-id', 'high-availability.type');
    expect(local['$internal.application.program-args']).to.equal('--a;1');
  });
  it("runs a standalone cluster's job from its classpath jar", () => {
    const standalone = localFlinkConfig(
      readFlatFlinkConfig('pipeline.classpaths: file:///opt/flink/examples/streaming/StateMachineExample.jar\n'),
      placement,
    );
    expect(standalone['pipeline.jars']).to.equal('file:///cache/flink-examples.jar');
    expect(standalone).to.not.have.any.keys('pipeline.classpaths');
  });
});

describe('a REST request naming a path on the pod, made local', () => {
  const localize = (body: unknown) =>
    JSON.parse(localizeRequestBody(Buffer.from(JSON.stringify(body)), '/state/files').toString()) as unknown;
  it('maps a savepoint target directory, with or without a scheme, and a savepoint to dispose of or restore from', () => {
    expect(localize({ 'target-directory': '/flink-data/savepoints-custom', formatType: 'CANONICAL' })).to.deep.equal({
      'target-directory': 'file:///state/files/flink-data/savepoints-custom',
      formatType: 'CANONICAL',
    });
    expect(localize({ targetDirectory: 'file:///flink-data/sp' })).to.deep.equal({
      targetDirectory: 'file:///state/files/flink-data/sp',
    });
    expect(localize({ 'savepoint-path': 'file:/state/files/flink-data/sp/savepoint-1' })).to.deep.equal({
      'savepoint-path': 'file:/state/files/flink-data/sp/savepoint-1',
    });
    expect(localize({ savepointPath: 's3://bucket/sp' })).to.deep.equal({ savepointPath: 's3://bucket/sp' });
  });
  it('leaves anything else byte for byte', () => {
    for (const body of ['not json', '[1,2]', '{"triggerId":"x"}'])
      expect(localizeRequestBody(Buffer.from(body), '/state/files').toString()).to.equal(body);
  });
});

describe("the simulated kubelet's container logs", () => {
  const log = 'one\ntwo\nthree\n';
  it('all of it without limits', () => expect(limitLog(log)).to.equal(log));
  it('the last tailLines lines', () => expect(limitLog(log, 2)).to.equal('two\nthree\n'));
  it('then at most limitBytes from their start, as the kubelet applies them', () =>
    expect(limitLog(log, 2, 5)).to.equal('two\nt'));
  it('more lines asked than there are: all', () => expect(limitLog(log, 10)).to.equal(log));
});
