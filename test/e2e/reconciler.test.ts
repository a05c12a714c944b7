// The reconciler end to end: real kube-apiserver, real Flink, the operator as its own least-privileged user.
import { expect } from 'chai';
import { kubectl, useStackNamespace } from '../support/stack.js';
import { apply, getDeployment, runningJob, upstreamDeployment, waitForLifecycle } from '../support/flink-deployments.js';

describe('reconciler: FlinkDeployment lifecycle', function () {
  const namespace = useStackNamespace(this);
  this.timeout(300_000);

  it('takes upstream basic.yaml through DEPLOYED to STABLE with the real job running and every object owned', async () => {
    const ns = namespace();
    await apply(ns, upstreamDeployment('basic.yaml'));
    const seen: string[] = [];
    const stable = await waitForLifecycle(ns, 'basic-example', 'STABLE', 180_000, seen);
    expect(seen.indexOf('DEPLOYED'), `lifecycle seen: ${seen.join(' → ')}`).to.be.greaterThan(-1);
    expect(seen.indexOf('DEPLOYED')).to.be.lessThan(seen.indexOf('STABLE'));

    const { jid } = await runningJob(ns, 'basic-example');
    expect(stable.status?.jobStatus?.jobId, 'status shows the id Flink runs').to.equal(jid);
    expect(stable.status?.jobStatus?.state).to.equal('RUNNING');
    expect(stable.status?.jobManagerDeploymentStatus).to.equal('READY');
    expect(stable.metadata.finalizers).to.include('flinkdeployments.flink.apache.org/finalizer');

    const table = await kubectl(['get', 'flinkdep', '-n', ns]);
    expect(table.stdout).to.match(/basic-example\s+RUNNING\s+STABLE/);

    const owned = JSON.parse((await kubectl(['get', 'deployments,services,configmaps', '-n', ns, '-l', 'app=basic-example', '-o', 'json'])).stdout) as {
      items: { kind: string; metadata: { name: string; uid: string; ownerReferences?: { kind: string; uid: string }[] } }[];
    };
    const byName = (kind: string, name: string) => owned.items.find((o) => o.kind === kind && o.metadata.name === name);
    const jm = byName('Deployment', 'basic-example');
    expect(jm?.metadata.ownerReferences?.[0], 'JobManager Deployment owned by the FlinkDeployment').to.include({ kind: 'FlinkDeployment', uid: stable.metadata.uid });
    for (const [kind, name] of [['Service', 'basic-example-rest'], ['Service', 'basic-example'], ['ConfigMap', 'flink-config-basic-example']] as const) {
      expect(byName(kind, name)?.metadata.ownerReferences?.[0], `${kind} ${name} owned by the JobManager Deployment`).to.include({ kind: 'Deployment', uid: jm!.metadata.uid });
    }
  });
});
