// `helm install` into the real control plane, into a namespace Pod Security enforces `restricted` on: every object
// accepted, the operator's pods admitted (kwok runs them; they do not execute). `helm upgrade` with a changed CRD:
// the operator's CRD step, run as the chart's ServiceAccount on the real authorizer, makes the new schema served.
// `helm uninstall` leaves the CRDs and the users' resources.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../../local/stack.js';
import { KubeClient, type KubeObject } from '../../kube/client.js';
import { loadKubeConfig } from '../../kube/kubeconfig.js';
import { applyCrds, readCrds } from '../../kube/crds.js';
import { eventually, freshNamespace, kubectl, localStack, scratchDir } from '../support/stack.js';
import {
  apply,
  patchSpec,
  statefulDeployment,
  upstreamDeployment,
  waitForLifecycle,
  waitForUpgraded,
} from '../support/flink-deployments.js';
import { buildImage, podman } from '../../local/image.js';
import { runTool } from '../../local/tools.js';
import { httpCall } from '../../local/http.js';
import { kubeconfigWith } from '../support/credentials.js';
import { runHelm as helm } from '../../local/helm.js';

const NS = 'flink-operator-ts-chart';

/**
 * Where the API server sends reviews: `https://127.0.0.1:<port>` — no Service routing on the local stack, so only here
 * the configurations name a url — or, without a port, the chart's Service again (helm upgrade merges into it). The
 * caBundle the webhook published is replaced too; the webhook publishes it again on its next look.
 */
async function reachWebhookAt(port: number | undefined): Promise<void> {
  for (const [kind, path] of [
    ['mutatingwebhookconfiguration', '/mutate'],
    ['validatingwebhookconfiguration', '/validate'],
  ] as const) {
    const value = port
      ? { url: `https://127.0.0.1:${port}${path}` }
      : { service: { name: 'ops-flink-operator-ts-webhook', namespace: NS, path, port: 443 } };
    const patched = await kubectl([
      'patch',
      kind,
      'flink-operator-ts',
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'replace', path: '/webhooks/0/clientConfig', value }]),
    ]);
    expect(patched.code, patched.stderr).to.equal(0);
  }
}

interface ContainerSpec {
  name: string;
  command: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName: string;
  containers: ContainerSpec[];
  volumes: { name: string; configMap?: { name: string } }[];
}

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
    expect(
      (
        await kubectl([
          'label',
          'namespace',
          NS,
          'pod-security.kubernetes.io/enforce=restricted',
          'pod-security.kubernetes.io/enforce-version=latest',
        ])
      ).code,
    ).to.equal(0);
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
    const objects = parseAllDocuments(manifest.stdout)
      .map((d) => d.toJS() as KubeObject)
      .filter(Boolean);
    expect(objects.length).to.be.greaterThan(12);
    for (const o of objects) {
      const got = await kubectl([
        'get',
        o.kind!,
        o.metadata!.name!,
        ...(o.metadata?.namespace ? ['-n', o.metadata.namespace] : []),
      ]);
      expect(got.code, `${o.kind} ${o.metadata?.name}: ${got.stderr}`).to.equal(0);
    }
    const pods = await eventually('the operator pod running', async () => {
      const out = await kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/instance=ops', '-o', 'json']);
      const items = (JSON.parse(out.stdout) as { items: { status: { phase: string } }[] }).items;
      return items.length === 1 && items[0]!.status.phase === 'Running' ? items : undefined;
    });
    expect(pods).to.have.length(1);
    // The positive control's negative: Pod Security really enforces here. (The namespace's default ServiceAccount
    // first: without it the ServiceAccount admission plugin refuses the pod before Pod Security is asked.)
    await eventually(
      'the default ServiceAccount',
      async () => (await kubectl(['get', 'serviceaccount', 'default', '-n', NS])).code === 0,
    );
    const loose = await kubectl(['run', 'loose', '-n', NS, '--image=busybox', '--restart=Never']);
    expect(loose.code).to.equal(1);
    expect(loose.stderr, loose.stderr).to.contain('violates PodSecurity "restricted:latest"');
  });

  it("self-provisioned TLS: the webhook, as the chart's ServiceAccount, fills its Secret and both caBundles; certificates and the CA rotate under a loop of applies with no failed admission", async () => {
    const dir = await scratchDir('chart-webhook');
    const token = (
      await kubectl(['create', 'token', 'ops-flink-operator-ts', '-n', NS, '--duration', '30m'])
    ).stdout.trim();
    const kubeconfig = await kubeconfigWith(join(dir, 'kubeconfig'), { token });
    const port = 19443;
    await reachWebhookAt(port);
    const log = join(dir, 'webhook.log');
    const args = [
      '--port',
      String(port),
      '--bind-address',
      '127.0.0.1',
      '--kubeconfig',
      kubeconfig,
      '--tls-secret',
      'flink-operator-ts-webhook-tls',
      '--tls-namespace',
      NS,
      '--tls-host',
      '127.0.0.1',
    ];
    const short = [
      '--tls-ca-lifetime',
      '36s',
      '--tls-serving-lifetime',
      '12s',
      '--tls-propagation',
      '4s',
      '--tls-poll',
      '1s',
    ];
    const webhook = spawn(process.execPath, [join(repoRoot, 'dist/webhook/main.js'), ...args, ...short], {
      stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
    });
    const tlsSecret = async () =>
      (
        JSON.parse(
          (await kubectl(['get', 'secret', 'flink-operator-ts-webhook-tls', '-n', NS, '-o', 'json'])).stdout,
        ) as { data?: Record<string, string> }
      ).data ?? {};
    try {
      const bundles = await eventually(
        'both caBundles published',
        async () => {
          const found = await Promise.all(
            ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration'].map(
              async (kind) =>
                (
                  await kubectl([
                    'get',
                    kind,
                    'flink-operator-ts',
                    '-o',
                    'jsonpath={.webhooks[0].clientConfig.caBundle}',
                  ])
                ).stdout,
            ),
          );
          return found.every(Boolean) ? found : undefined;
        },
        60_000,
      );
      const first = await tlsSecret();
      expect(bundles[0]).to.equal(first['ca-bundle.crt']);
      const ns = await freshNamespace('chart-tls');
      // A client applying in a loop while the serving certificate renews every 8 s and the CA once (24 s in).
      const outcomes: { ok: boolean; stderr: string }[] = [];
      const until = Date.now() + 45_000;
      for (let i = 0; Date.now() < until; i++) {
        const object = upstreamDeployment('basic.yaml', (d) =>
          Object.assign(d.metadata, { name: `tls-${i}`, namespace: ns }),
        );
        const run = await kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(object));
        outcomes.push({
          ok:
            run.code === 0 &&
            (JSON.parse(run.stdout || '{}') as { spec?: { job?: { args?: unknown[] } } }).spec?.job?.args?.length === 0,
          stderr: run.stderr,
        });
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
      await reachWebhookAt(undefined);
    }
  });

  it('the image, running for real — on trixie, with the Node the tests run on: its operator and webhook containers, configured as the chart configures the pod and alone, take a job through STABLE, a savepoint upgrade, suspend, resume and delete', async function () {
    this.timeout(900_000);
    const stack = await localStack();
    const image = await buildImage();
    const dir = await scratchDir('chart-image');
    const objects = parseAllDocuments((await helm(['get', 'manifest', 'ops', '-n', NS], env)).stdout)
      .map((d) => d.toJS() as KubeObject)
      .filter(Boolean);
    const podSpec = (
      objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: PodSpec } } }
    ).spec.template.spec;
    const configMaps = new Map(
      objects
        .filter((o) => o.kind === 'ConfigMap')
        .map((o) => [o.metadata!.name!, (o as unknown as { data: Record<string, string> }).data]),
    );
    // What the kubelet gives the pod: its ConfigMap volumes as files, a token of its ServiceAccount bound to the pod,
    // the cluster CA and the namespace, and the in-cluster address of the API server.
    const volumes = new Map<string, string>();
    for (const volume of podSpec.volumes) {
      if (!volume.configMap) continue;
      const at = join(dir, volume.name);
      mkdirSync(at, { recursive: true });
      for (const [file, text] of Object.entries(configMaps.get(volume.configMap.name)!))
        writeFileSync(join(at, file), text);
      volumes.set(volume.name, at);
    }
    const pod = (
      JSON.parse(
        (await kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/instance=ops', '-o', 'json'])).stdout,
      ) as { items: KubeObject[] }
    ).items[0]!;
    const account = join(dir, 'serviceaccount');
    mkdirSync(account, { recursive: true });
    const token = await kubectl([
      'create',
      'token',
      podSpec.serviceAccountName,
      '-n',
      NS,
      '--bound-object-kind',
      'Pod',
      '--bound-object-name',
      pod.metadata!.name!,
      '--bound-object-uid',
      pod.metadata!.uid!,
      '--duration',
      '1h',
    ]);
    writeFileSync(join(account, 'token'), token.stdout.trim());
    writeFileSync(join(account, 'ca.crt'), readFileSync(stack.controlPlane.pki.caCert));
    writeFileSync(join(account, 'namespace'), NS);
    const api = new URL(stack.controlPlane.server);
    const p = podman();
    const podmanRun = (args: string[]) => runTool(p.command, [...p.args, ...args], repoRoot, p.env);
    // One Node everywhere: the image runs the Node these tests run on, on Debian trixie.
    const inImage = (command: string[]) =>
      podmanRun([
        'run',
        '--rm',
        '--read-only',
        '--user',
        '65532:65532',
        '--entrypoint',
        command[0]!,
        image.tag,
        ...command.slice(1),
      ]);
    expect((await inImage(['/usr/local/bin/node', '--version'])).trim(), "the image's Node").to.equal(process.version);
    expect(await inImage(['/bin/sh', '-c', '. /etc/os-release && echo $VERSION_CODENAME'])).to.match(/^trixie\s*$/);
    const started: Record<string, number> = {};
    const run = async (container: ContainerSpec, extraArgs: string[], extraMounts: string[]) => {
      const mounts = container.volumeMounts.flatMap((m) =>
        volumes.has(m.name)
          ? ['-v', `${volumes.get(m.name)}:${m.mountPath}:ro`]
          : ['--tmpfs', `${m.mountPath}:rw,mode=1777`],
      );
      const envs = container.env.flatMap((e) => [
        '-e',
        `${e.name}=${e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' ? NS : e.value}`,
      ]);
      started[container.name] = Date.now();
      await podmanRun([
        'run',
        '-d',
        '--replace',
        '--name',
        `fot-${container.name}`,
        '--read-only',
        '--user',
        '65532:65532',
        '--cap-drop',
        'ALL',
        '--security-opt',
        'no-new-privileges',
        '--network',
        'host',
        '-e',
        `KUBERNETES_SERVICE_HOST=${api.hostname}`,
        '-e',
        `KUBERNETES_SERVICE_PORT=${api.port}`,
        ...envs,
        '-v',
        `${account}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
        ...mounts,
        ...extraMounts,
        '--entrypoint',
        container.command[0]!,
        image.tag,
        ...container.command.slice(1),
        ...container.args,
        ...extraArgs,
      ]);
    };
    const [operator, webhook] = podSpec.containers;
    await stack.stopOperator('operator');
    try {
      await reachWebhookAt(9443);
      // The only differences from the pod: the webhook's certificate also names 127.0.0.1 (the url above), and the
      // operator reads where the runner's Flink REST APIs listen (no Service routing here).
      await run(webhook!, ['--tls-host=127.0.0.1'], []);
      const overrides = dirname(stack.flinkRestOverridesFile);
      await run(
        operator!,
        [`--flink-rest-overrides=/var/run/flink-rest/${basename(stack.flinkRestOverridesFile)}`],
        ['-v', `${overrides}:/var/run/flink-rest:ro`],
      );
      const ready: Record<string, number> = {};
      await eventually(
        'both containers ready',
        async () => {
          for (const [name, url] of [
            ['webhook', 'https://127.0.0.1:9443/readyz'],
            ['operator', 'http://127.0.0.1:8085/readyz'],
          ] as const) {
            if (
              !ready[name] &&
              (await httpCall(url, { tls: { rejectUnauthorized: false } }).catch(() => undefined))?.status === 200
            )
              ready[name] = Date.now() - started[name]!;
          }
          return ready.webhook !== undefined && ready.operator !== undefined;
        },
        120_000,
      );

      const ns = await freshNamespace('image');
      await apply(ns, statefulDeployment('savepoint'));
      const stable = await waitForLifecycle(ns, 'basic-example', 'STABLE');
      const rss = await podmanRun([
        'stats',
        '--no-stream',
        '--format',
        '{{.Name}} {{.MemUsage}}',
        'fot-operator',
        'fot-webhook',
      ]);
      console.log(
        `      image ${image.tag}: webhook ready in ${ready.webhook} ms, operator in ${ready.operator} ms; with one resource: ${rss.trim().replace(/\n/g, '; ')}`,
      );
      await patchSpec(ns, 'basic-example', { job: { parallelism: 1 } });
      const upgraded = await waitForUpgraded(ns, 'basic-example', stable.status?.jobStatus?.jobId);
      expect(upgraded.status?.jobStatus?.upgradeSavepointPath, 'the upgrade went through a savepoint').to.be.a(
        'string',
      );
      await patchSpec(ns, 'basic-example', { job: { state: 'suspended' } });
      await waitForLifecycle(ns, 'basic-example', 'SUSPENDED');
      await patchSpec(ns, 'basic-example', { job: { state: 'running' } });
      await waitForLifecycle(ns, 'basic-example', 'STABLE');
      expect((await kubectl(['delete', 'flinkdeployment', 'basic-example', '-n', ns, '--timeout=120s'])).code).to.equal(
        0,
      );
      expect(
        (await kubectl(['get', 'deployment', 'basic-example', '-n', ns])).code,
        'its JobManager went with it',
      ).to.equal(1);

      // What the chart grants its accounts, as the real authorizer lists them: no wildcard, no resource or verb beyond
      // the rules file's groups for that account.
      const file = parse(
        readFileSync(join(repoRoot, 'charts/flink-operator-ts/files/rbac-rules.yaml'), 'utf8'),
      ) as Record<string, { resources: string[]; verbs: string[] }[]>;
      const allowed = (groups: string[]) => {
        const verbs = new Map<string, Set<string>>();
        for (const rule of groups.flatMap((g) => file[g]!))
          for (const r of rule.resources) verbs.set(r, new Set([...(verbs.get(r) ?? []), ...rule.verbs]));
        return verbs;
      };
      const selfReviews = ['selfsubjectreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'];
      const accounts: [string, string[], string[], string][] = [
        [
          'ops-flink-operator-ts',
          Object.keys(file).filter((g) => g !== 'flink'),
          [ns, NS],
          'flinkdeployments.flink.apache.org',
        ],
        ['flink', ['flink'], [NS], 'pods'],
      ];
      for (const [account, groups, namespaces, surelyListed] of accounts) {
        const verbsOf = allowed(groups);
        for (const where of namespaces) {
          const list = await kubectl([
            'auth',
            'can-i',
            '--list',
            '-n',
            where,
            `--as=system:serviceaccount:${NS}:${account}`,
          ]);
          // Resource rows only: Kubernetes' own discovery rules grant every account non-resource URLs like /api/*.
          const rows = list.stdout
            .trim()
            .split('\n')
            .slice(1)
            .map((line) => line.trim())
            .filter((line) => !line.startsWith('['));
          expect(
            rows.some((line) => line.startsWith(`${surelyListed} `)),
            `${account} in ${where} may use ${surelyListed}`,
          ).to.equal(true);
          const beyond = rows.flatMap((line) => {
            const [qualified, sub] = line.split(/\s/)[0]!.split('/');
            const resource = `${qualified!.split('.')[0]}${sub ? `/${sub}` : ''}`;
            if (selfReviews.includes(resource)) return [];
            const verbs = line.slice(line.lastIndexOf('[') + 1, line.lastIndexOf(']')).split(' ');
            return verbs.filter((v) => !verbsOf.get(resource)?.has(v)).map((v) => `${v} ${resource}`);
          });
          expect(beyond, `${account} in ${where}: granted beyond the rules file (or a wildcard)`).to.deep.equal([]);
        }
      }
    } finally {
      for (const name of ['fot-operator', 'fot-webhook']) {
        const logs = spawnSync(p.command, [...p.args, 'logs', name], {
          env: { ...process.env, ...p.env },
          encoding: 'utf8',
          maxBuffer: 64 * 2 ** 20,
        });
        writeFileSync(join(dir, `${name}.log`), `${logs.stdout ?? ''}${logs.stderr ?? ''}`);
      }
      await podmanRun(['rm', '-f', '-t', '5', 'fot-operator', 'fot-webhook']).catch(() => undefined);
      await stack.startOperator();
      await reachWebhookAt(undefined);
    }
  });

  it("helm upgrade with a changed CRD schema: the operator's CRD step, as the chart's ServiceAccount, makes it served; it may touch no other CRD", async () => {
    const file = join(chart, 'crds', `${SESSION_JOBS_CRD}.yaml`);
    const crd = parse(readFileSync(file, 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: { description?: string } } }[] };
    };
    crd.spec.versions[0]!.schema.openAPIV3Schema.description = 'FlinkSessionJob, as upgraded by helm upgrade';
    writeFileSync(file, stringify(crd));
    const upgraded = await helm(['upgrade', 'ops', chart, '-n', NS], env);
    expect(upgraded.code, upgraded.stderr).to.equal(0);

    // What the pod would mount: the CRDs ConfigMap as files; who it would be: the chart's ServiceAccount.
    const configMap = JSON.parse(
      (await kubectl(['get', 'configmap', 'ops-flink-operator-ts-crds', '-n', NS, '-o', 'json'])).stdout,
    ) as { data: Record<string, string> };
    const mounted = join(await scratchDir('chart-crds'), 'crds');
    mkdirSync(mounted, { recursive: true });
    for (const [name, text] of Object.entries(configMap.data)) writeFileSync(join(mounted, name), text);
    const token = (
      await kubectl(['create', 'token', 'ops-flink-operator-ts', '-n', NS, '--duration', '10m'])
    ).stdout.trim();
    const kubeconfig = await kubeconfigWith(join(await scratchDir('chart-crds'), 'kubeconfig'), { token });
    const asOperator = KubeClient.fromKubeConfig((await loadKubeConfig(kubeconfig))!, 'chart-test');
    try {
      expect(await applyCrds(asOperator, readCrds(mounted), 'flink-operator-ts')).to.have.length(3);
      const served = await kubectl([
        'get',
        'crd',
        SESSION_JOBS_CRD,
        '-o',
        'jsonpath={.spec.versions[0].schema.openAPIV3Schema.description}',
      ]);
      expect(served.stdout).to.equal('FlinkSessionJob, as upgraded by helm upgrade');
      const foreign = await asOperator
        .get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/leases.coordination.k8s.io')
        .catch((e: Error) => e);
      expect(String(foreign)).to.match(/403/);
    } finally {
      asOperator.close();
    }
  });

  it("helm uninstall leaves the CRDs and the users' resources", async () => {
    const job = {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkSessionJob',
      metadata: { name: 'kept', namespace: NS },
      spec: {
        deploymentName: 'none',
        job: { jarURI: 'https://artifacts.example.com/job.jar', parallelism: 1, upgradeMode: 'stateless' },
      },
    };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(job))).code).to.equal(0);
    const removed = await helm(['uninstall', 'ops', '-n', NS, '--wait'], env);
    expect(removed.code, removed.stderr).to.equal(0);
    for (const crd of ['flinkdeployments', 'flinksessionjobs', 'flinkstatesnapshots'])
      expect((await kubectl(['get', 'crd', `${crd}.flink.apache.org`])).code, crd).to.equal(0);
    expect((await kubectl(['get', 'flinksessionjob', 'kept', '-n', NS])).code).to.equal(0);
    expect((await kubectl(['get', 'deployment', 'ops-flink-operator-ts', '-n', NS])).code).to.equal(1);
  });
});
