// `helm install` into the real control plane, into a namespace Pod Security enforces `restricted` on: every object
// accepted, the operator's pods admitted (kwok runs them; they do not execute). `helm upgrade` with a changed CRD:
// the operator's CRD step, run as the chart's ServiceAccount on the real authorizer, makes the new schema served.
// `helm uninstall` leaves the CRDs and the users' resources.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../../local/stack.js';
import { KubeClient, type KubeObject } from '../../kube/client.js';
import { loadKubeConfig } from '../../kube/kubeconfig.js';
import { applyCrds, readCrds } from '../../kube/crds.js';
import { eventually, freshNamespace, kubectl, localStack, scratchDir } from '../support/stack.js';
import { upstreamDeployment } from '../support/flink-deployments.js';
import { kubeconfigWith } from '../support/credentials.js';
import { runHelm as helm } from '../../local/helm.js';

const NS = 'flink-operator-ts-chart';

const SESSION_JOBS_CRD = 'flinksessionjobs.flink.apache.org';

describe('Helm chart on the real control plane', function () {
  this.timeout(300_000);
  let chart = '';
  let env: Record<string, string> = {};

  before(async function () {
    this.timeout(30 * 60_000);
    const stack = await localStack();
    env = { KUBECONFIG: stack.kubeconfig };
    chart = join(await scratchDir('chart'), 'flink-operator-ts');
    cpSync(join(repoRoot, 'charts/flink-operator-ts'), chart, { recursive: true });
    // The chart's webhook configurations have the stack's names (one operator per cluster): the stack's step aside.
    await stack.unregisterWebhook();
    expect((await kubectl(['create', 'namespace', NS])).code).to.equal(0);
    expect((await kubectl(['label', 'namespace', NS, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest'])).code).to.equal(0);
  });

  after(async function () {
    this.timeout(120_000);
    const stack = await localStack();
    await helm(['uninstall', 'ops', '-n', NS, '--wait'], env);
    await kubectl(['delete', 'namespace', NS, '--wait=false']);
    // The stack's own CRDs and webhook back as they were.
    const admin = KubeClient.fromKubeConfig((await loadKubeConfig(stack.kubeconfig))!, 'chart-test');
    await applyCrds(admin, readCrds(join(repoRoot, 'charts/flink-operator-ts/crds')), 'flink-operator-ts');
    admin.close();
    await stack.registerWebhook();
  });

  it('installs into a restricted namespace: every object accepted, the operator pods admitted by Pod Security', async () => {
    const installed = await helm(['install', 'ops', chart, '-n', NS, '--wait', '--timeout', '3m'], env);
    expect(installed.code, installed.stderr).to.equal(0);
    const manifest = await helm(['get', 'manifest', 'ops', '-n', NS], env);
    const objects = parseAllDocuments(manifest.stdout).map((d) => d.toJS() as KubeObject).filter(Boolean);
    expect(objects.length).to.be.greaterThan(12);
    for (const o of objects) {
      const got = await kubectl(['get', o.kind!, o.metadata!.name!, ...(o.metadata?.namespace ? ['-n', o.metadata.namespace] : [])]);
      expect(got.code, `${o.kind} ${o.metadata?.name}: ${got.stderr}`).to.equal(0);
    }
    const pods = await eventually('the operator pod running', async () => {
      const out = await kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/instance=ops', '-o', 'json']);
      const items = (JSON.parse(out.stdout) as { items: { status: { phase: string } }[] }).items;
      return items.length === 1 && items[0]!.status.phase === 'Running' ? items : undefined;
    });
    expect(pods).to.have.length(1);
    // The positive control's negative: Pod Security really enforces here.
    const loose = await kubectl(['run', 'loose', '-n', NS, '--image=busybox', '--restart=Never']);
    expect(loose.code).to.equal(1);
    expect(loose.stderr).to.contain('violates PodSecurity "restricted:latest"');
  });

  it('self-provisioned TLS: the webhook, as the chart\'s ServiceAccount, fills its Secret and both caBundles; certificates and the CA rotate under a loop of applies with no failed admission', async () => {
    const dir = await scratchDir('chart-webhook');
    const token = (await kubectl(['create', 'token', 'ops-flink-operator-ts', '-n', NS, '--duration', '30m'])).stdout.trim();
    const kubeconfig = await kubeconfigWith(join(dir, 'kubeconfig'), { token });
    const port = 19443;
    // No Service routing on the local stack: only here the configurations reach the webhook by url.
    for (const [kind, path] of [['mutatingwebhookconfiguration', '/mutate'], ['validatingwebhookconfiguration', '/validate']]) {
      const patched = await kubectl(['patch', kind!, 'flink-operator-ts', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/webhooks/0/clientConfig', value: { url: `https://127.0.0.1:${port}${path}` } }])]);
      expect(patched.code, patched.stderr).to.equal(0);
    }
    const log = join(dir, 'webhook.log');
    const args = ['--port', String(port), '--bind-address', '127.0.0.1', '--kubeconfig', kubeconfig, '--tls-secret', 'flink-operator-ts-webhook-tls', '--tls-namespace', NS, '--tls-host', '127.0.0.1'];
    const short = ['--tls-ca-lifetime', '36s', '--tls-serving-lifetime', '12s', '--tls-propagation', '4s', '--tls-poll', '1s'];
    const webhook = spawn(process.execPath, [join(repoRoot, 'dist/webhook/main.js'), ...args, ...short], { stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')] });
    const tlsSecret = async () => (JSON.parse((await kubectl(['get', 'secret', 'flink-operator-ts-webhook-tls', '-n', NS, '-o', 'json'])).stdout) as { data?: Record<string, string> }).data ?? {};
    try {
      const bundles = await eventually('both caBundles published', async () => {
        const found = await Promise.all(['mutatingwebhookconfiguration', 'validatingwebhookconfiguration'].map(async (kind) => (await kubectl(['get', kind, 'flink-operator-ts', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}'])).stdout));
        return found.every(Boolean) ? found : undefined;
      }, 60_000);
      const first = await tlsSecret();
      expect(bundles[0]).to.equal(first['ca-bundle.crt']);
      const ns = await freshNamespace('chart-tls');
      // A client applying in a loop while the serving certificate renews every 8 s and the CA once (24 s in).
      const outcomes: { ok: boolean; stderr: string }[] = [];
      const until = Date.now() + 45_000;
      for (let i = 0; Date.now() < until; i++) {
        const object = upstreamDeployment('basic.yaml', (d) => Object.assign(d.metadata, { name: `tls-${i}`, namespace: ns }));
        const run = await kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(object));
        outcomes.push({ ok: run.code === 0 && (JSON.parse(run.stdout || '{}') as { spec?: { job?: { args?: unknown[] } } }).spec?.job?.args?.length === 0, stderr: run.stderr });
      }
      await kubectl(['delete', 'namespace', ns, '--wait=false']);
      const last = await tlsSecret();
      expect(outcomes.length, 'applies in 45 s').to.be.greaterThan(20);
      expect(outcomes.filter((o) => !o.ok).map((o) => o.stderr)).to.deep.equal([]);
      expect(last['ca.crt'], 'the CA rotated').to.not.equal(first['ca.crt']);
      expect(last['tls.crt'], 'the serving certificate rotated').to.not.equal(first['tls.crt']);
      expect(readFileSync(log, 'utf8')).to.contain('"step":"promote-next-ca"');
    } finally {
      webhook.kill('SIGTERM');
      // Back to the chart's service reference (helm upgrade merges into it), keeping the caBundle.
      for (const [kind, path] of [['mutatingwebhookconfiguration', '/mutate'], ['validatingwebhookconfiguration', '/validate']]) {
        const service = { name: 'ops-flink-operator-ts-webhook', namespace: NS, path, port: 443 };
        await kubectl(['patch', kind!, 'flink-operator-ts', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/webhooks/0/clientConfig/url' }, { op: 'add', path: '/webhooks/0/clientConfig/service', value: service }])]);
      }
    }
  });

  it('helm upgrade with a changed CRD schema: the operator\'s CRD step, as the chart\'s ServiceAccount, makes it served; it may touch no other CRD', async () => {
    const file = join(chart, 'crds', `${SESSION_JOBS_CRD}.yaml`);
    const crd = parse(readFileSync(file, 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: { description?: string } } }[] } };
    crd.spec.versions[0]!.schema.openAPIV3Schema.description = 'FlinkSessionJob, as upgraded by helm upgrade';
    writeFileSync(file, stringify(crd));
    const upgraded = await helm(['upgrade', 'ops', chart, '-n', NS], env);
    expect(upgraded.code, upgraded.stderr).to.equal(0);

    // What the pod would mount: the CRDs ConfigMap as files; who it would be: the chart's ServiceAccount.
    const configMap = JSON.parse((await kubectl(['get', 'configmap', 'ops-flink-operator-ts-crds', '-n', NS, '-o', 'json'])).stdout) as { data: Record<string, string> };
    const mounted = join(await scratchDir('chart-crds'), 'crds');
    mkdirSync(mounted, { recursive: true });
    for (const [name, text] of Object.entries(configMap.data)) writeFileSync(join(mounted, name), text);
    const token = (await kubectl(['create', 'token', 'ops-flink-operator-ts', '-n', NS, '--duration', '10m'])).stdout.trim();
    const kubeconfig = await kubeconfigWith(join(await scratchDir('chart-crds'), 'kubeconfig'), { token });
    const asOperator = KubeClient.fromKubeConfig((await loadKubeConfig(kubeconfig))!, 'chart-test');
    try {
      expect(await applyCrds(asOperator, readCrds(mounted), 'flink-operator-ts')).to.have.length(3);
      const served = await kubectl(['get', 'crd', SESSION_JOBS_CRD, '-o', 'jsonpath={.spec.versions[0].schema.openAPIV3Schema.description}']);
      expect(served.stdout).to.equal('FlinkSessionJob, as upgraded by helm upgrade');
      const foreign = await asOperator.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/leases.coordination.k8s.io').catch((e: Error) => e);
      expect(String(foreign)).to.match(/403/);
    } finally {
      asOperator.close();
    }
  });

  it('helm uninstall leaves the CRDs and the users\' resources', async () => {
    const job = { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkSessionJob', metadata: { name: 'kept', namespace: NS }, spec: { deploymentName: 'none', job: { jarURI: 'https://artifacts.example.com/job.jar', parallelism: 1, upgradeMode: 'stateless' } } };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(job))).code).to.equal(0);
    const removed = await helm(['uninstall', 'ops', '-n', NS, '--wait'], env);
    expect(removed.code, removed.stderr).to.equal(0);
    for (const crd of ['flinkdeployments', 'flinksessionjobs', 'flinkstatesnapshots']) expect((await kubectl(['get', 'crd', `${crd}.flink.apache.org`])).code, crd).to.equal(0);
    expect((await kubectl(['get', 'flinksessionjob', 'kept', '-n', NS])).code).to.equal(0);
    expect((await kubectl(['get', 'deployment', 'ops-flink-operator-ts', '-n', NS])).code).to.equal(1);
  });
});
