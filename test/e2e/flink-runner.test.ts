// A JobManager pod in the local cluster gets a real Flink: hand-written Deployment + ConfigMap, as the reconciler
// will create them, checked on Flink's REST API through the published address.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedFlinkVersion } from '../../local/flink/runner-build.js';
import { repoRoot } from '../support/paths.js';
import { eventually, kubectl, localStack, useStackNamespace } from '../support/stack.js';

const JOB_ID = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

function jobManager(ns: string, app: string): string {
  const config = [
    'taskmanager.numberOfTaskSlots: 1', // fewer than the parallelism: the runner must offer enough
    'parallelism.default: 2',
    'pipeline.jars: local:///opt/flink/examples/streaming/StateMachineExample.jar',
    `$internal.pipeline.job-id: ${JOB_ID}`,
    'execution.checkpointing.dir: file:///flink-data/checkpoints',
    'kubernetes.cluster-id: ' + app,
    'kubernetes.namespace: ' + ns,
  ].join('\n');
  const labels = { app, component: 'jobmanager', type: 'flink-native-kubernetes' };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `flink-config-${app}`, namespace: ns, labels: { app } }, data: { 'config.yaml': config } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: ns, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { serviceAccountName: 'flink', containers: [{ name: 'flink-main-container', image: 'flink:2.2', args: ['jobmanager'] }] } },
        },
      },
    ],
  });
}

describe('real Flink behind JobManager pods', function () {
  const namespace = useStackNamespace(this);
  this.timeout(300_000);

  it('starts a Flink for a JobManager pod, runs its job, publishes its address, and stops it with the pod', async () => {
    const ns = namespace();
    const stack = await localStack();
    expect((await kubectl(['apply', '-f', '-'], jobManager(ns, 'demo'))).code).to.equal(0);

    const restUrl = await eventually('the runner to publish demo\'s REST address', async () => {
      if (!existsSync(stack.flinkRestOverridesFile)) return undefined;
      return (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)[`${ns}/demo`];
    }, 180_000);
    const config = (await (await fetch(`${restUrl}/config`)).json()) as { 'flink-version': string };
    expect(config['flink-version']).to.equal(pinnedFlinkVersion(join(repoRoot, 'local/flink-runner')));

    const job = await eventually('the job RUNNING', async () => {
      const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as { jobs: { jid: string; state: string }[] };
      return jobs.find((j) => j.state === 'RUNNING');
    }, 120_000);
    expect(job.jid, 'the pinned job id is the id Flink runs').to.equal(JOB_ID);

    const cluster = stack.flinkRunner!.cluster(ns, 'demo')!;
    const pid = cluster.process.pid;
    expect((await kubectl(['scale', 'deployment', 'demo', '-n', ns, '--replicas=0'])).code).to.equal(0);
    const podGone = await eventually('the pod to go', async () => (await kubectl(['get', 'pods', '-n', ns, '-l', 'app=demo', '-o', 'name'])).stdout.trim() === '' && Date.now());
    await eventually('the JVM to stop', async () => !cluster.process.running(), 10_000);
    expect(Date.now() - podGone, 'JVM stopped within 10 s of the pod going').to.be.below(10_000);
    expect(existsSync(`/proc/${pid}`)).to.equal(false);
    const refused = await fetch(`${restUrl}/config`).then(() => false, () => true);
    expect(refused).to.equal(true);
    await eventually('the address to be withdrawn', async () => !(`${ns}/demo` in (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)));
  });
});
