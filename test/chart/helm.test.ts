// The chart through the real `helm`: lint, and what `helm template` renders with the default values, with
// watchNamespaces, with cert-manager and with two replicas — read as a cluster admin reviewing it would.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../local/stack.js';
import { runHelm } from '../../local/helm.js';

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [key: string]: unknown;
}
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
type Container = { name: string; args: string[]; securityContext: Record<string, unknown> };

const chart = join(repoRoot, 'charts/flink-operator-ts');

const helm = runHelm;

async function render(...set: string[]): Promise<Doc[]> {
  const out = await helm([
    'template',
    'ops',
    chart,
    '--namespace',
    'flink-system',
    ...set.flatMap((s) => ['--set', s]),
  ]);
  expect(out.code, out.stderr).to.equal(0);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS() as Doc)
    .filter(Boolean);
}

const one = (docs: Doc[], kind: string, name?: string): Doc => {
  const found = docs.filter((d) => d.kind === kind && (!name || d.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).to.have.length(1);
  return found[0]!;
};
const containers = (docs: Doc[]): Container[] =>
  (one(docs, 'Deployment') as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template
    .spec.containers;
const webhooks = (docs: Doc[], kind: string) =>
  (one(docs, kind) as unknown as { webhooks: Record<string, unknown>[] }).webhooks;

describe('Helm chart (real helm)', function () {
  this.timeout(60_000);

  it('lints clean with the default values and with every variant', async () => {
    for (const set of [[], ['watchNamespaces={team-a,team-b}'], ['certManager.enabled=true'], ['replicas=2']]) {
      const out = await helm(['lint', chart, '--strict', ...set.flatMap((s) => ['--set', s])]);
      expect(out.code, out.stdout + out.stderr).to.equal(0);
    }
  });

  it('default: one Deployment of the operator and the webhook, Pod Security restricted, self-provisioned TLS, webhooks that never gate their own namespace', async () => {
    const docs = await render();
    const [operator, webhook] = containers(docs);
    expect([operator!.name, webhook!.name]).to.deep.equal(['operator', 'webhook']);
    for (const c of [operator!, webhook!]) {
      expect(c.securityContext).to.deep.include({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        runAsUser: 65532,
      });
      expect(c.securityContext.capabilities).to.deep.equal({ drop: ['ALL'] });
    }
    expect(operator!.args).to.include('--crds=/etc/flink-operator-ts/crds');
    expect(webhook!.args).to.include.members([
      '--tls-secret=flink-operator-ts-webhook-tls',
      '--tls-host=ops-flink-operator-ts-webhook.flink-system.svc',
    ]);
    expect(one(docs, 'Secret', 'flink-operator-ts-webhook-tls')).to.not.have.property('data');
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const [hook] = webhooks(docs, kind);
      expect(hook).to.deep.include({
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
      });
      expect(hook!.clientConfig).to.deep.equal({
        service: {
          name: 'ops-flink-operator-ts-webhook',
          namespace: 'flink-system',
          path: kind.startsWith('M') ? '/mutate' : '/validate',
          port: 443,
        },
      });
      expect(hook!.namespaceSelector).to.deep.equal({
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'flink-system'] },
        ],
      });
    }
    expect((one(docs, 'Service') as unknown as { spec: { ports: unknown[] } }).spec.ports).to.deep.equal([
      { name: 'https', port: 443, targetPort: 'webhook' },
    ]);
    expect(docs.filter((d) => d.kind === 'PodDisruptionBudget')).to.have.length(0);
    expect(one(docs, 'ServiceAccount', 'flink').metadata.namespace).to.equal('flink-system');
  });

  it('RBAC is the rules file, verb by verb: no wildcard, cluster scope only for what needs it, names where Kubernetes allows them', async () => {
    const docs = await render();
    const rulesOf = (kind: string, name: string) => (one(docs, kind, name) as unknown as { rules: Rule[] }).rules;
    for (const rule of docs.flatMap((d) => (d as { rules?: Rule[] }).rules ?? [])) {
      for (const list of [rule.apiGroups, rule.resources, rule.verbs])
        expect(list, JSON.stringify(rule)).to.not.include('*');
    }
    const file = (await import('yaml')).parse(readFileSync(join(chart, 'files/rbac-rules.yaml'), 'utf8')) as Record<
      string,
      Rule[]
    >;
    expect(rulesOf('ClusterRole', 'ops-flink-operator-ts')).to.deep.equal(file.operator);
    expect(rulesOf('ClusterRole', 'ops-flink-operator-ts-cluster')).to.deep.equal([
      ...file.webhook!,
      ...file.operatorCrds!,
      ...file.webhookConfigurations!,
    ]);
    expect(rulesOf('Role', 'ops-flink-operator-ts-own')).to.deep.equal([
      ...file.operatorLease!,
      ...file.webhookTlsSecret!,
    ]);
    expect(
      rulesOf('ClusterRole', 'ops-flink-operator-ts-cluster').find((r) =>
        r.resources.includes('customresourcedefinitions'),
      ),
    ).to.deep.include({ verbs: ['get', 'patch'] });
  });

  it("object stores: the credentials Secret named in the configuration and readable (get, that name only), extra environment, the ServiceAccount's cloud identity", async () => {
    const docs = await render(
      'artifactStores.credentialsSecret=store-keys',
      'operatorEnv[0].name=AWS_REGION',
      'operatorEnv[0].value=eu-west-1',
      'operatorServiceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/flink',
    );
    const file = (await import('yaml')).parse(readFileSync(join(chart, 'files/rbac-rules.yaml'), 'utf8')) as Record<
      string,
      Rule[]
    >;
    const own = (one(docs, 'Role', 'ops-flink-operator-ts-own') as unknown as { rules: Rule[] }).rules;
    expect(own).to.deep.equal([
      ...file.operatorLease!,
      ...file.webhookTlsSecret!,
      ...file.operatorArtifactCredentials!.map((r) => ({ ...r, resourceNames: ['store-keys'] })),
    ]);
    expect(
      (one(docs, 'ConfigMap', 'ops-flink-operator-ts-config') as unknown as { data: Record<string, string> }).data[
        'flink-operator.yaml'
      ],
    ).to.contain('kubernetes.operator.user.artifacts.credentials.secret: flink-system/store-keys');
    const operator = (
      one(docs, 'Deployment') as unknown as {
        spec: { template: { spec: { containers: { name: string; env: { name: string; value?: string }[] }[] } } };
      }
    ).spec.template.spec.containers.find((c) => c.name === 'operator')!;
    expect(operator.env).to.deep.include({ name: 'AWS_REGION', value: 'eu-west-1' });
    expect(one(docs, 'ServiceAccount', 'ops-flink-operator-ts').metadata).to.have.nested.property(
      'annotations.eks\\.amazonaws\\.com/role-arn',
      'arn:aws:iam::1:role/flink',
    );
    // Without a Secret named, no Secret may be read beyond the webhook's own.
    const plain = (one(await render(), 'Role', 'ops-flink-operator-ts-own') as unknown as { rules: Rule[] }).rules;
    expect(plain.filter((r) => r.resources.includes('secrets')).flatMap((r) => r.resourceNames ?? [])).to.deep.equal([
      'flink-operator-ts-webhook-tls',
    ]);
  });

  it("watchNamespaces: a Role (the operator's and the webhook's rules) and the flink ServiceAccount in each, nothing of theirs cluster-wide, and only those namespaces gated", async () => {
    const docs = await render('watchNamespaces={team-a,team-b}');
    const roles = docs.filter((d) => d.kind === 'Role' && d.metadata.name === 'ops-flink-operator-ts');
    expect(roles.map((d) => d.metadata.namespace)).to.deep.equal(['team-a', 'team-b']);
    // The webhook's caches too are per namespace: nothing of theirs cluster-wide.
    const file = (await import('yaml')).parse(readFileSync(join(chart, 'files/rbac-rules.yaml'), 'utf8')) as Record<
      string,
      Rule[]
    >;
    expect((roles[0] as unknown as { rules: Rule[] }).rules).to.deep.equal([...file.operator!, ...file.webhook!]);
    expect(
      (one(docs, 'ClusterRole', 'ops-flink-operator-ts-cluster') as unknown as { rules: Rule[] }).rules,
    ).to.deep.equal([...file.operatorCrds!, ...file.webhookConfigurations!]);
    expect(
      docs.filter((d) => d.kind === 'ServiceAccount' && d.metadata.name === 'flink').map((d) => d.metadata.namespace),
    ).to.deep.equal(['team-a', 'team-b']);
    expect(docs.filter((d) => d.kind === 'ClusterRole').map((d) => d.metadata.name)).to.deep.equal([
      'ops-flink-operator-ts-cluster',
    ]);
    expect(webhooks(docs, 'ValidatingWebhookConfiguration')[0]!.namespaceSelector).to.deep.equal({
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a', 'team-b'] }],
    });
    expect(
      (one(docs, 'ConfigMap', 'ops-flink-operator-ts-config') as unknown as { data: Record<string, string> }).data[
        'flink-operator.yaml'
      ],
    ).to.contain('kubernetes.operator.watched.namespaces: team-a,team-b');
    const own = await helm([
      'template',
      'ops',
      chart,
      '--namespace',
      'flink-system',
      '--set',
      'watchNamespaces={flink-system}',
    ]);
    expect(own.code).to.equal(1);
    expect(own.stderr).to.contain('watchNamespaces: name a namespace besides the release');
  });

  it('cert-manager: a Certificate and the CA injector instead of the Secret the webhook fills; no TLS rights for the webhook', async () => {
    const docs = await render('certManager.enabled=true');
    expect(one(docs, 'Certificate', 'ops-flink-operator-ts-webhook')).to.deep.nested.include({
      'spec.secretName': 'flink-operator-ts-webhook-tls',
    });
    expect(one(docs, 'MutatingWebhookConfiguration').metadata.annotations).to.deep.equal({
      'cert-manager.io/inject-ca-from': 'flink-system/ops-flink-operator-ts-webhook',
    });
    expect(docs.filter((d) => d.kind === 'Secret')).to.have.length(0);
    expect(containers(docs)[1]!.args).to.include('--tls-cert-file=/etc/flink-operator-ts/webhook-tls/tls.crt');
    const rules = docs.flatMap((d) => (d as { rules?: Rule[] }).rules ?? []);
    expect(rules.flatMap((r) => r.resources)).to.not.include.members(['secrets', 'mutatingwebhookconfigurations']);
  });

  it('two replicas: a PodDisruptionBudget keeps one through a drain; a wrong type is refused by values.schema.json', async () => {
    const docs = await render('replicas=2');
    expect(one(docs, 'PodDisruptionBudget')).to.deep.nested.include({ 'spec.minAvailable': 1 });
    const wrong = await helm(['template', 'ops', chart, '--set', 'replicas=two']);
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.contain('replicas: Invalid type. Expected: integer, given: string');
  });
});
