// kubectl → real kube-apiserver → our webhooks over TLS → etcd, with the real kubectl binary.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { upstreamExamplesDir } from '../support/paths.js';
import { eventually, kubectl, localStack, useStackNamespace } from '../support/stack.js';

const basicYaml = readFileSync(join(upstreamExamplesDir, 'basic.yaml'), 'utf8');

describe('the real admission chain (kube-apiserver → flink-webhook)', function () {
  const namespace = useStackNamespace(this);
  let ns: string;
  beforeEach(() => (ns = namespace()));

  it('kubectl apply of upstream basic.yaml stores it with our defaults', async () => {
    const applied = await kubectl(['apply', '-n', ns, '-f', '-'], basicYaml);
    expect(applied.code, applied.stderr).to.equal(0);
    expect(applied.stdout).to.match(/flinkdeployment.flink.apache.org\/basic-example created/);
    const stored = parse(
      (await kubectl(['get', 'flinkdeployment', 'basic-example', '-n', ns, '-o', 'yaml'])).stdout,
    ) as { spec: Record<string, any> };
    expect(stored.spec).to.include({ serviceAccount: 'flink', mode: 'native' });
    expect(stored.spec.jobManager.replicas).to.equal(1);
    expect(stored.spec.job).to.include({ state: 'running', upgradeMode: 'stateless' });
    expect(stored.spec.job.args).to.deep.equal([]);
  });

  it('kubectl apply --dry-run=server -o yaml shows the defaults and stores nothing', async () => {
    const dry = await kubectl(['apply', '--dry-run=server', '-o', 'yaml', '-n', ns, '-f', '-'], basicYaml);
    expect(dry.code, dry.stderr).to.equal(0);
    const shown = parse(dry.stdout) as {
      spec: {
        mode: string;
        serviceAccount: string;
        job: { state: string; args: unknown[] };
        jobManager: { replicas: number };
      };
    };
    expect(shown.spec.mode).to.equal('native');
    expect(shown.spec.jobManager.replicas).to.equal(1);
    expect(shown.spec.job.state).to.equal('running');
    expect(shown.spec.job.args).to.deep.equal([]);
    const none = await kubectl(['get', 'flinkdeployment', 'basic-example', '-n', ns]);
    expect(none.code).to.not.equal(0);
    expect(none.stderr).to.match(/NotFound/);
  });

  it('refuses an invalid FlinkDeployment with a non-zero exit and every problem listed', async () => {
    const invalid = parse(basicYaml) as { metadata: { name: string }; spec: Record<string, any> };
    invalid.metadata.name = 'basic.example'; // a valid Kubernetes name, not a valid Flink cluster id
    delete invalid.spec.image;
    invalid.spec.job.parallelism = 0;
    invalid.spec.flinkConfiguration['kubernetes.cluster-id'] = 'mine';
    const refused = await kubectl(['apply', '-n', ns, '-f', '-'], stringify(invalid));
    expect(refused.code).to.not.equal(0);
    for (const problem of [
      'metadata.name: "basic.example" is not a valid Flink cluster name',
      'spec.image: is required',
      'spec.job.parallelism: must be ≥ 1',
      'spec.flinkConfiguration["kubernetes.cluster-id"]: must not be set',
    ]) {
      expect(refused.stderr).to.include(problem);
    }
  });

  it('kubectl get flinkdep prints the printer columns; kubectl explain documents the job', async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], basicYaml);
    const table = await kubectl(['get', 'flinkdep', '-n', ns]);
    expect(table.stdout.split('\n')[0]).to.match(/^NAME\s+JOB STATUS\s+LIFECYCLE STATE\s+MODE\s+AGE$/);
    // The reconciler may already have filled in the job state and the lifecycle.
    expect(table.stdout).to.match(/basic-example\s+(?:[A-Z_]+\s+){0,2}native\s+\d+s/);
    const explain = await kubectl(['explain', 'flinkdeployment.spec.job']);
    expect(explain.code, explain.stderr).to.equal(0);
    expect(explain.stdout).to.match(/upgradeMode\s+<string>/);
    expect(explain.stdout).to.match(/How the job keeps its state across upgrades/);
  });

  it("rejects a session job aimed at an application cluster, found through the webhook's informer", async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], basicYaml);
    const job = {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkSessionJob',
      metadata: { name: 'misdirected' },
      spec: { deploymentName: 'basic-example', job: { jarURI: 'https://artifacts.example.com/x.jar', parallelism: 1 } },
    };
    const refused = await eventually(
      'the webhook cache to see basic-example',
      async () => {
        const r = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(job));
        return r.code !== 0 && r;
      },
      15_000,
    );
    expect(refused.stderr).to.include('spec.deploymentName: FlinkDeployment "basic-example" is an application cluster');

    job.spec.deploymentName = 'not-there-yet';
    const admitted = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(job));
    expect(admitted.code, admitted.stderr).to.equal(0);
    expect(admitted.stderr).to.match(
      /Warning: spec.deploymentName: FlinkDeployment "not-there-yet" does not exist yet/,
    );
    const labels = (
      await kubectl([
        'get',
        'flinksessionjob',
        'misdirected',
        '-n',
        ns,
        '-o',
        'jsonpath={.metadata.labels.target\\.session}',
      ])
    ).stdout;
    expect(labels).to.equal('not-there-yet');
  });

  it('with the webhook stopped, applies fail closed (failurePolicy: Fail); restarted, they heal', async () => {
    const stack = await localStack();
    await stack.stopWebhook();
    try {
      const refused = await kubectl(['apply', '-n', ns, '-f', '-'], basicYaml);
      expect(refused.code).to.not.equal(0);
      expect(refused.stderr).to.match(/failed calling webhook "mutate.flink.apache.org"/);
      expect((await kubectl(['get', 'flinkdeployment', '-n', ns, '-o', 'name'])).stdout).to.equal('');
    } finally {
      await stack.startWebhook();
    }
    const healed = await kubectl(['apply', '-n', ns, '-f', '-'], basicYaml);
    expect(healed.code, healed.stderr).to.equal(0);
  });

  describe("the webhook's FlinkDeployment cache across API server faults", () => {
    const probe = (deploymentName: string) =>
      JSON.stringify({
        apiVersion: 'flink.apache.org/v1beta1',
        kind: 'FlinkSessionJob',
        metadata: { name: 'probe' },
        spec: { deploymentName, job: { jarURI: 'https://artifacts.example.com/x.jar', parallelism: 1 } },
      });
    /** The webhook's cache has `name` once a session job aimed at it is refused as an application cluster. */
    const webhookSees = (name: string) =>
      eventually(
        `the webhook to see ${name}`,
        async () => {
          const r = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], probe(name));
          return r.code !== 0 && r.stderr.includes(`FlinkDeployment "${name}" is an application cluster`);
        },
        45_000,
      );
    /** LISTs of FlinkDeployments by the webhook's own user, counted from the API server's audit log. */
    const webhookLists = async () => {
      const { readFileSync } = await import('node:fs');
      const { IDENTITIES } = await import('../../local/control-plane/pki.js');
      return readFileSync((await localStack()).controlPlane.auditLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as {
              verb: string;
              stage: string;
              user: { username: string };
              objectRef?: { resource: string };
            },
        )
        .filter(
          (e) =>
            e.stage === 'ResponseComplete' &&
            e.verb === 'list' &&
            e.user.username === IDENTITIES.webhook.user &&
            e.objectRef?.resource === 'flinkdeployments',
        ).length;
    };
    const settleAudit = () => new Promise((r) => setTimeout(r, 1500)); // the audit log is written in 1 s batches

    it('after a restart it resumes its watch (no relist) and sees what was created meanwhile', async () => {
      const stack = await localStack();
      await settleAudit();
      const before = await webhookLists();
      await stack.controlPlane.restartApiServer();
      expect(
        (await kubectl(['apply', '-n', ns, '-f', '-'], basicYaml.replace('name: basic-example', 'name: after-restart')))
          .code,
      ).to.equal(0);
      await webhookSees('after-restart');
      await settleAudit();
      expect(await webhookLists(), 'a resumed watch needs no new LIST').to.equal(before);
    });

    it('after a 410 Gone (etcd compacted while it was away) it relists and catches up', async () => {
      const stack = await localStack();
      await settleAudit();
      const before = await webhookLists();
      await stack.controlPlane.restartApiServer(() => stack.controlPlane.compactEtcd());
      expect(
        (
          await kubectl(
            ['apply', '-n', ns, '-f', '-'],
            basicYaml.replace('name: basic-example', 'name: after-compaction'),
          )
        ).code,
      ).to.equal(0);
      await webhookSees('after-compaction');
      await settleAudit();
      expect(await webhookLists(), 'the 410 forces a new LIST').to.be.greaterThan(before);
    });
  });
});
