// The control plane is the real thing: controllers, scheduler and a simulated kubelet act, RBAC is enforced.
import { expect } from 'chai';
import { IDENTITIES } from '../../local/control-plane/pki.js';
import { eventually, kubectl, localStack, useStackNamespace } from '../support/stack.js';

const deployment = (ns: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  });

describe('the local control plane', function () {
  const namespace = useStackNamespace(this);
  let ns: string;
  beforeEach(() => (ns = namespace()));

  it('turns a Deployment into a ReplicaSet and Ready pods on the kwok node, and garbage-collects them', async () => {
    expect((await kubectl(['apply', '-f', '-'], deployment(ns))).code).to.equal(0);
    const pods = await eventually('two Ready pods', async () => {
      const out = (
        await kubectl([
          'get',
          'pods',
          '-n',
          ns,
          '-l',
          'app=web',
          '-o',
          'jsonpath={range .items[*]}{.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        ])
      ).stdout.trim();
      const lines = out ? out.split('\n') : [];
      return lines.length === 2 && lines.every((l) => l === 'kwok-node-0 True') && lines;
    });
    expect(pods).to.have.length(2);
    expect((await kubectl(['get', 'replicasets', '-n', ns, '-o', 'name'])).stdout).to.match(/replicaset.apps\/web-/);

    expect((await kubectl(['delete', 'deployment', 'web', '-n', ns, '--wait=false'])).code).to.equal(0);
    await eventually('the ReplicaSet and pods to be garbage-collected', async () => {
      const left = await kubectl(['get', 'replicasets,pods', '-n', ns, '-o', 'name']);
      return (left.code === 0 && left.stdout.trim() === '') || undefined;
    });
  });

  it("enforces the chart's RBAC: the webhook may read FlinkDeployments and nothing more", async () => {
    const stack = await localStack();
    const as = (args: string[]) =>
      stack.kubectl(args, { identity: IDENTITIES.webhook }).then(
        () => 'allowed',
        (e: { stderr: string }) => e.stderr,
      );
    expect(await as(['get', 'flinkdeployments', '-n', ns])).to.equal('allowed');
    expect(await as(['get', 'configmaps', '-n', ns])).to.match(/Forbidden.*cannot list resource "configmaps"/);
    expect(await as(['delete', 'flinkdeployment', 'anything', '-n', ns])).to.match(
      /Forbidden.*cannot delete resource "flinkdeployments"/,
    );
    const canI = (verb: string, resource: string) =>
      kubectl(['auth', 'can-i', verb, resource, '-n', ns, `--as=${IDENTITIES.operator.user}`]).then((r) =>
        r.stdout.trim(),
      );
    expect(await canI('patch', 'flinkdeployments/status')).to.equal('yes');
    expect(await canI('create', 'deployments.apps')).to.equal('yes');
    expect(await canI('get', 'secrets')).to.equal('no');
  });

  it('gives every test namespace the flink ServiceAccount and Role', async () => {
    expect((await kubectl(['get', 'serviceaccount', 'flink', '-n', ns])).code).to.equal(0);
    expect(
      (
        await kubectl(['auth', 'can-i', 'create', 'pods', '-n', ns, `--as=system:serviceaccount:${ns}:flink`])
      ).stdout.trim(),
    ).to.equal('yes');
  });

  it('writes an audit log that tells who did what', async () => {
    const stack = await localStack();
    await kubectl(['create', 'configmap', 'audited', '-n', ns]);
    const { readFileSync } = await import('node:fs');
    const entry = await eventually('the audit entry', async () =>
      readFileSync(stack.controlPlane.auditLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as {
              verb: string;
              user: { username: string };
              objectRef?: { resource: string; namespace: string; name: string };
            },
        )
        .find(
          (e) =>
            e.verb === 'create' &&
            e.objectRef?.resource === 'configmaps' &&
            e.objectRef.namespace === ns &&
            e.objectRef.name === 'audited',
        ),
    );
    expect(entry.user.username).to.equal(IDENTITIES.admin.user);
  });
});
