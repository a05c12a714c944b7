import { expect } from 'chai';
import { localFlinkConfig, readFlatFlinkConfig } from '../../local/flink/local-config.js';

const placement = { ports: { rest: 20001, rpc: 20002 }, filesRoot: '/state/files', examplesJar: '/cache/flink-examples.jar' };

describe('a JobManager pod\'s Flink configuration, made local', () => {
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
    expect(local).to.include({ 'rest.port': '20001', 'rest.bind-address': '127.0.0.1', 'jobmanager.rpc.port': '20002', 'taskmanager.host': '127.0.0.1' });
  });
  it('offers at least as many slots as the parallelism', () => expect(local['taskmanager.numberOfTaskSlots']).to.equal('4'));
  it('runs the stand-in for Flink\'s example jars', () => expect(local['pipeline.jars']).to.equal('file:///cache/flink-examples.jar'));
  it('maps a pod path into the state directory, and a path Flink reported from there not twice', () => {
    expect(local['execution.checkpointing.dir']).to.equal('file:///state/files/flink-data/checkpoints');
    expect(local['execution.savepoint.path']).to.equal('file:/state/files/flink-data/savepoints/savepoint-1');
  });
  it('drops what only real Kubernetes needs, keeps the job\'s own keys', () => {
    expect(local).to.not.have.any.keys('kubernetes.cluster-id', 'high-availability.type');
    expect(local['$internal.application.program-args']).to.equal('--a;1');
  });
  it('runs a standalone cluster\'s job from its classpath jar', () => {
    const standalone = localFlinkConfig(readFlatFlinkConfig('pipeline.classpaths: file:///opt/flink/examples/streaming/StateMachineExample.jar\n'), placement);
    expect(standalone['pipeline.jars']).to.equal('file:///cache/flink-examples.jar');
    expect(standalone).to.not.have.any.keys('pipeline.classpaths');
  });
});
