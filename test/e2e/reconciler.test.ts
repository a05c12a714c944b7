// The reconciler end to end: real kube-apiserver, real Flink, the operator as its own least-privileged user.
import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { eventually, kubectl, localStack, useStackNamespace } from '../support/stack.js';
import {
  apply,
  events,
  getDeployment,
  patchSpec,
  restUrl,
  runningJob,
  statefulDeployment,
  upstreamDeployment,
  waitForLifecycle,
} from '../support/flink-deployments.js';

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

    const owned = JSON.parse(
      (await kubectl(['get', 'deployments,services,configmaps', '-n', ns, '-l', 'app=basic-example', '-o', 'json']))
        .stdout,
    ) as {
      items: {
        kind: string;
        metadata: { name: string; uid: string; ownerReferences?: { kind: string; uid: string }[] };
      }[];
    };
    const byName = (kind: string, name: string) => owned.items.find((o) => o.kind === kind && o.metadata.name === name);
    const jm = byName('Deployment', 'basic-example');
    expect(jm?.metadata.ownerReferences?.[0], 'JobManager Deployment owned by the FlinkDeployment').to.include({
      kind: 'FlinkDeployment',
      uid: stable.metadata.uid,
    });
    for (const [kind, name] of [
      ['Service', 'basic-example-rest'],
      ['Service', 'basic-example'],
      ['ConfigMap', 'flink-config-basic-example'],
    ] as const) {
      expect(
        byName(kind, name)?.metadata.ownerReferences?.[0],
        `${kind} ${name} owned by the JobManager Deployment`,
      ).to.include({ kind: 'Deployment', uid: jm!.metadata.uid });
    }
  });

  it("shows a job that fails terminally as FAILED with Flink's cause in status.error", async () => {
    const ns = namespace();
    await apply(
      ns,
      upstreamDeployment('basic.yaml', (d) => (d.spec!.job!.args = ['--fail-in-main'])),
    );
    const failed = await waitForLifecycle(ns, 'basic-example', 'FAILED');
    expect(failed.status?.jobStatus?.state).to.equal('FAILED');
    const error = JSON.parse(failed.status!.error!) as {
      type: string;
      message: string;
      throwableList?: { message: string }[];
    };
    const text = [error.message, ...(error.throwableList ?? []).map((t) => t.message)].join('\n');
    expect(text, "the cause the job's main threw").to.contain('CountingJob was told to fail (--fail-in-main)');
    const table = await kubectl(['get', 'flinkdep', '-n', ns]);
    expect(table.stdout).to.match(/basic-example\s+FAILED\s+FAILED/);
  });

  it('on delete, stops the job with a savepoint, lets every owned object go and removes its finalizer', async () => {
    const ns = namespace();
    const stack = await localStack();
    await apply(ns, statefulDeployment('savepoint', 'doomed'));
    await patchSpec(ns, 'doomed', { flinkConfiguration: { 'kubernetes.operator.job.savepoint-on-deletion': 'true' } });
    await waitForLifecycle(ns, 'doomed', 'STABLE');
    const { jid } = await runningJob(ns, 'doomed');
    const savepointsDir = join(stack.flinkRestOverridesFile, '..', 'files', 'flink-data', 'savepoints');
    const before = existsSync(savepointsDir) ? readdirSync(savepointsDir) : [];

    const deletion = kubectl(['delete', 'flinkdeployment', 'doomed', '-n', ns, '--wait=true', '--timeout=120s']);
    await eventually(
      'DELETING',
      async () => (await getDeployment(ns, 'doomed'))?.status?.lifecycleState === 'DELETING',
      30_000,
    ).catch(() => undefined);
    expect((await deletion).code, 'kubectl delete returns once the finalizer is gone').to.equal(0);
    expect(await getDeployment(ns, 'doomed')).to.equal(undefined);

    const fresh = readdirSync(savepointsDir).filter((d) => !before.includes(d));
    expect(fresh, 'one new savepoint').to.have.length(1);
    expect(existsSync(join(savepointsDir, fresh[0]!, '_metadata'))).to.equal(true);
    await eventually(
      'every owned object to be garbage-collected',
      async () => {
        const left = await kubectl([
          'get',
          'deployments,services,configmaps,pods',
          '-n',
          ns,
          '-l',
          'app=doomed',
          '-o',
          'name',
        ]);
        return left.stdout.trim() === '';
      },
      60_000,
    );
    await eventually('the Flink to be stopped', async () => (await restUrl(ns, 'doomed')) === undefined, 30_000);
    expect(jid).to.match(/^[0-9a-f]{32}$/);
  });

  it('reports a spec that slipped past admission in status.error and a ValidationError event, and keeps the last valid spec running', async () => {
    const ns = namespace();
    const stack = await localStack();
    await apply(ns, upstreamDeployment('basic.yaml'));
    await waitForLifecycle(ns, 'basic-example', 'STABLE');
    const { jid } = await runningJob(ns, 'basic-example');
    await stack.unregisterWebhook();
    try {
      // The API server may take a moment to stop calling the webhook it no longer has.
      await eventually(
        'the patch to be admitted without the webhook',
        async () =>
          (
            await kubectl([
              'patch',
              'flinkdeployment',
              'basic-example',
              '-n',
              ns,
              '--type=merge',
              '-p',
              '{"spec":{"job":{"parallelism":0}}}',
            ])
          ).code === 0,
        30_000,
      );
    } finally {
      await stack.registerWebhook();
    }
    const rejected = await eventually('status.error', async () => {
      const d = await getDeployment(ns, 'basic-example');
      return d?.status?.error?.includes('spec.job.parallelism') ? d : undefined;
    });
    expect(JSON.parse(rejected.status!.error!).type).to.contain('ValidationException');
    const validation = (await events(ns, 'basic-example')).filter((e) => e.reason === 'ValidationError');
    expect(validation).to.have.length(1);
    expect(validation[0]!.type).to.equal('Warning');
    expect(validation[0]!.message).to.contain('spec.job.parallelism');
    // A few more reconciles: the same job, untouched.
    await new Promise((r) => setTimeout(r, 4000));
    const still = await runningJob(ns, 'basic-example');
    expect(still.jid, 'the last valid spec keeps running').to.equal(jid);
    expect((await getDeployment(ns, 'basic-example'))?.status?.jobStatus?.state).to.equal('RUNNING');
  });

  it('brings a session cluster (no job) to STABLE once its REST API answers', async () => {
    const ns = namespace();
    const name = 'basic-session-deployment-only-example';
    await apply(ns, upstreamDeployment('basic-session-deployment-only.yaml'));
    const stable = await waitForLifecycle(ns, name, 'STABLE');
    expect(stable.status?.jobManagerDeploymentStatus).to.equal('READY');
    expect(stable.status?.clusterInfo?.['flink-version']).to.match(/^2\.2/);
    const url = await restUrl(ns, name);
    expect((await fetch(`${url}/config`)).status).to.equal(200);
  });

  it('recovers a deleted JobManager Deployment of a stateless job, with a Missing and a RecoverDeployment event', async () => {
    const ns = namespace();
    await apply(ns, upstreamDeployment('basic.yaml'));
    await waitForLifecycle(ns, 'basic-example', 'STABLE');
    const first = await runningJob(ns, 'basic-example');
    expect((await kubectl(['delete', 'deployment', 'basic-example', '-n', ns])).code).to.equal(0);
    const again = await eventually(
      'a new job on a new JobManager',
      async () => {
        const job = await runningJob(ns, 'basic-example', 5_000).catch(() => undefined);
        return job && job.jid !== first.jid ? job : undefined;
      },
      120_000,
    );
    const recovered = await waitForLifecycle(ns, 'basic-example', 'STABLE');
    expect(recovered.status?.jobStatus?.jobId).to.equal(again.jid);
    const reasons = (await events(ns, 'basic-example')).map((e) => e.reason);
    expect(reasons).to.include.members(['Missing', 'RecoverDeployment']);
  });

  it('shows an unreachable Flink REST API as a status, keeps asking it at a bounded rate, and never crashes', async () => {
    const ns = namespace();
    const stack = await localStack();
    await apply(ns, upstreamDeployment('basic.yaml'));
    await waitForLifecycle(ns, 'basic-example', 'STABLE');
    await runningJob(ns, 'basic-example');
    // The JobManager pod stays Ready and its Flink runs on, but the operator can no longer reach its REST API.
    const proxy = stack.flinkRunner!.restProxy(ns, 'basic-example')!;
    const restPort = Number(new URL(proxy.url).port);
    await proxy.close();
    const unreachable = await eventually(
      'the status to show it',
      async () => {
        const d = await getDeployment(ns, 'basic-example');
        return d?.status?.jobManagerDeploymentStatus === 'DEPLOYING' && d.status.jobStatus?.state === 'RECONCILING'
          ? d
          : undefined;
      },
      30_000,
    );
    expect(unreachable.status?.lifecycleState, 'still the stable spec').to.equal('STABLE');

    // Where the REST API was published, something now accepts and hangs up at once: each connection is one question.
    let asked = 0;
    const dead = createServer((socket) => {
      asked++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dead.listen(restPort, '127.0.0.1', resolve));
    try {
      await new Promise((r) => setTimeout(r, 10_000));
    } finally {
      dead.close();
    }
    // Two questions (/config, /jobs/overview) per look, one look per 1 s progress-check interval.
    expect(asked, 'neither given up nor a hot loop').to.be.within(8, 40);
    expect(stack.operator()?.running(), 'the operator is still up').to.equal(true);
    expect((await getDeployment(ns, 'basic-example'))?.status?.jobManagerDeploymentStatus).to.equal('DEPLOYING');
  });

  it('runs upstream basic-reactive.yaml in standalone mode: a TaskManager Deployment beside the JobManager, STABLE', async () => {
    const ns = namespace();
    const name = 'basic-reactive-example';
    await apply(ns, upstreamDeployment('basic-reactive.yaml'));
    const stable = await waitForLifecycle(ns, name, 'STABLE');
    const { jid } = await runningJob(ns, name);
    expect(stable.status?.jobStatus?.jobId).to.equal(jid);
    const tm = JSON.parse(
      (await kubectl(['get', 'deployment', `${name}-taskmanager`, '-n', ns, '-o', 'json'])).stdout,
    ) as {
      metadata: { labels: Record<string, string> };
      spec: { replicas: number };
    };
    expect(tm.metadata.labels).to.include({ type: 'flink-standalone-kubernetes', component: 'taskmanager', app: name });
    expect(tm.spec.replicas, 'ceil(parallelism 2 / 2 slots)').to.equal(1);
    expect(
      (await kubectl(['get', 'service', name, '-n', ns])).code,
      'standalone always has the internal Service',
    ).to.equal(0);
  });

  it('runs upstream basic-ingress, advanced-ingress and custom-logging to STABLE, with their Ingress and log configuration', async () => {
    const ns = namespace();
    const examples = [
      ['basic-ingress.yaml', 'basic-ingress'],
      ['advanced-ingress.yaml', 'advanced-ingress'],
      ['custom-logging.yaml', 'custom-logging-example'],
    ] as const;
    for (const [file] of examples) await apply(ns, upstreamDeployment(file));
    for (const [, name] of examples) await waitForLifecycle(ns, name, 'STABLE');

    const ingress = async (name: string) =>
      JSON.parse((await kubectl(['get', 'ingress', name, '-n', ns, '-o', 'json'])).stdout) as {
        metadata: { annotations?: Record<string, string>; ownerReferences: { kind: string }[] };
        spec: {
          ingressClassName?: string;
          rules: {
            host?: string;
            http: { paths: { path: string; backend: { service: { name: string; port: { number: number } } } }[] };
          }[];
        };
      };
    const basic = await ingress('basic-ingress');
    expect(basic.spec.rules[0]!.host, 'host from the template').to.equal(`basic-ingress.${ns}.flink.k8s.io`);
    expect(basic.spec.rules[0]!.http.paths[0]!.backend.service).to.deep.equal({
      name: 'basic-ingress-rest',
      port: { number: 8081 },
    });
    expect(basic.metadata.ownerReferences[0]!.kind).to.equal('FlinkDeployment');
    const advanced = await ingress('advanced-ingress');
    expect(advanced.spec.rules[0]!.host).to.equal(undefined);
    expect(advanced.spec.rules[0]!.http.paths[0]!.path).to.equal(`/${ns}/advanced-ingress(/|$)(.*)`);
    expect(advanced.spec.ingressClassName).to.equal('nginx');
    expect(advanced.metadata.annotations).to.include({ 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' });

    const config = JSON.parse(
      (await kubectl(['get', 'configmap', 'flink-config-custom-logging-example', '-n', ns, '-o', 'json'])).stdout,
    ) as { data: Record<string, string> };
    expect(
      config.data['log4j-console.properties'],
      "the user's log configuration reaches Flink's conf directory",
    ).to.contain('rootLogger.level = DEBUG');
  });
});
