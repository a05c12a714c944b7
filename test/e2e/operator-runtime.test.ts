// The operator as a real cluster runs it: credentials that rotate or expire, a leader stalled past its lease,
// Flink failing the one call an upgrade depends on, a namespace that lacks the ServiceAccount, credentials the API
// server refuses. Each checked on what a user would notice — the job on Flink, the status, events, the audit log.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditEvents, byOperator, settleAudit, type AuditEvent } from '../support/audit.js';
import { boundOperatorToken, execPlugin, kubeconfigWith } from '../support/credentials.js';
import {
  apply,
  events,
  expectExactlyOneJob,
  flinkJobs,
  getDeployment,
  patchSpec,
  restoredFrom,
  runningJob,
  statefulDeployment,
  upgradeUnderWay,
  waitForLifecycle,
  waitForUpgraded,
} from '../support/flink-deployments.js';
import { startFlinkProxy } from '../support/flink-proxy.js';
import {
  eventually,
  kubectl,
  localStack,
  runAlone,
  scratchDir,
  untilLogged,
  useStackNamespace,
} from '../support/stack.js';

const NAME = 'basic-example';
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

const at = (e: AuditEvent) => Date.parse(e.requestReceivedTimestamp);

describe('operator runtime: credentials, leadership, failures a user can see', function () {
  const namespace = useStackNamespace(this);
  this.timeout(300_000);

  afterEach(async () => {
    const stack = await localStack();
    for (const name of ['token', 'exec', 'refused', 'successor', 'proxied']) await stack.stopOperator(name);
    for (const pid of [stack.operator()?.pid].filter((p): p is number => p !== undefined)) process.kill(pid, 'SIGCONT');
    if (!stack.operator()?.running()) await stack.startOperator();
  });

  it('keeps working when its bound ServiceAccount token is rotated and the old one revoked, without a restart or a 401 loop', async () => {
    const ns = namespace();
    const dir = await scratchDir('token');
    const first = await boundOperatorToken(`token-a-${ns}`);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, first.token);
    // kubectl's tokenFile key, as a pod's projected token is read.
    await runAlone('token', { kubeconfig: await kubeconfigWith(join(dir, 'kubeconfig'), { tokenFile }) });
    await apply(ns, statefulDeployment('stateless'));
    await waitForLifecycle(ns, NAME, 'STABLE');
    const before = await runningJob(ns, NAME);

    // The kubelet writes a new token; the object the old one was bound to goes, which revokes it (the API server
    // notices within seconds). Only then does the user change the spec.
    const second = await boundOperatorToken(`token-b-${ns}`);
    writeFileSync(tokenFile, second.token);
    const rotatedAt = Date.now();
    expect((await kubectl(['delete', 'secret', `token-a-${ns}`, '-n', 'flink-operator-ts'])).code).to.equal(0);
    await new Promise((r) => setTimeout(r, 10_000));
    const changedAt = Date.now();
    await patchSpec(ns, NAME, { job: { parallelism: 3 } });
    await waitForUpgraded(ns, NAME, before.jid);
    await expectExactlyOneJob(ns);

    await settleAudit();
    const refused = await auditEvents((e) => e.responseStatus?.code === 401 && at(e) > rotatedAt);
    expect(refused.length, 'at most a refusal or two while the new token is picked up, not a loop').to.be.below(5);
    const mine = await auditEvents((e) => byOperator('token')(e) && at(e) > changedAt);
    const ids = new Set(mine.map((e) => e.user.extra?.['authentication.kubernetes.io/credential-id']?.[0]));
    expect(
      mine.filter((e) => e.objectRef?.resource === 'flinkdeployments').length,
      'the upgrade was done by this operator',
    ).to.be.greaterThan(0);
    expect([...ids], 'its requests carry the new token').to.deep.equal([`JTI=${second.jti}`]);
  });

  it('runs an exec credential plugin again each time its credential expires', async () => {
    const ns = namespace();
    const dir = await scratchDir('exec');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, (await boundOperatorToken(`exec-${ns}`)).token);
    const plugin = execPlugin(dir, tokenFile, 4);
    const kubeconfig = await kubeconfigWith(join(dir, 'kubeconfig'), {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin.command, interactiveMode: 'Never' },
    });
    await runAlone('exec', { kubeconfig });
    await apply(ns, statefulDeployment('stateless'));
    await waitForLifecycle(ns, NAME, 'STABLE');
    const before = await runningJob(ns, NAME);
    const callsBefore = plugin.calls();
    await new Promise((r) => setTimeout(r, 9000)); // past two expirations
    await patchSpec(ns, NAME, { job: { parallelism: 3 } });
    await waitForUpgraded(ns, NAME, before.jid);
    expect(plugin.calls() - callsBefore, 'the plugin ran again after its credentials expired').to.be.at.least(2);
  });

  it('says so in one error line with the status code, and in /readyz, when the API server refuses its credentials', async () => {
    const stack = await localStack();
    const dir = await scratchDir('refused');
    writeFileSync(join(dir, 'token'), 'not-a-token');
    const operator = await stack.startOperator('refused', {
      kubeconfig: await kubeconfigWith(join(dir, 'kubeconfig'), { tokenFile: join(dir, 'token') }),
    });
    const port = await eventually('the health port', async () => stack.operatorHealthPort('refused'), 20_000);
    const errors = () =>
      operator
        .logTail(200)
        .split('\n')
        .filter((l) => l.includes('"level":50'));
    await eventually('an error line', async () => errors().length > 0, 20_000);
    await new Promise((r) => setTimeout(r, 6000)); // three more retry periods: still one line
    expect(errors(), 'one error line').to.have.length(1);
    expect(errors()[0])
      .to.match(/"status":401/)
      .and.match(/Unauthorized/);
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readyz.status).to.equal(503);
    expect(await readyz.text()).to.contain('401');
  });

  it('shows why pods cannot be created in a namespace without the flink ServiceAccount, and recovers once it exists', async () => {
    const stack = await localStack();
    const ns = `${namespace()}-nosa`;
    expect((await kubectl(['create', 'namespace', ns])).code).to.equal(0);
    const applied = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(statefulDeployment('stateless')));
    expect(applied.code, applied.stderr).to.equal(0);
    expect(applied.stderr, "kubectl prints the webhook's warning").to.match(
      /Warning: spec\.serviceAccount: ServiceAccount "flink" does not exist in namespace/,
    );
    const appliedAt = Date.now();
    const failed = await eventually(
      'the FailedCreate reason in the status',
      async () => {
        const d = await getDeployment(ns, NAME);
        const message = d?.status?.error ? (JSON.parse(d.status.error) as { message: string }).message : '';
        return d?.status?.jobManagerDeploymentStatus === 'ERROR' && message.includes('serviceaccount "flink" not found')
          ? d
          : undefined;
      },
      30_000,
    );
    expect(Date.now() - appliedAt, 'within a few progress-check intervals of the apply').to.be.below(20_000);
    expect(JSON.parse(failed.status!.error!).type).to.equal(
      'org.apache.flink.kubernetes.operator.exception.DeploymentFailedException',
    );
    await eventually(
      'a FailedCreate event',
      async () => (await events(ns, NAME)).some((e) => e.type === 'Warning' && e.reason === 'FailedCreate'),
      10_000,
    );

    await stack.createNamespace(ns); // the account and its Role, nothing else
    const stable = await waitForLifecycle(ns, NAME, 'STABLE', 120_000);
    expect(stable.status?.jobManagerDeploymentStatus).to.equal('READY');
    expect(stable.status?.error).to.equal(undefined);
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it('a leader stalled past its lease in the middle of a savepoint upgrade writes nothing once it wakes; the standby finishes with one job', async () => {
    const ns = namespace();
    const stack = await localStack();
    const standby = await stack.startOperator('successor');
    await untilLogged(standby, 'waiting for leadership', 20_000);
    const before = await upgradeUnderWay(ns);

    const leader = stack.operator()!;
    process.kill(leader.pid!, 'SIGSTOP');
    await untilLogged(standby, 'became leader', 40_000);
    const done = await waitForUpgraded(ns, NAME, before.jid);
    process.kill(leader.pid!, 'SIGCONT');
    await untilLogged(leader, 'leadership lost');
    await new Promise((r) => setTimeout(r, 3000));

    await settleAudit();
    const standbyWrites = await auditEvents(
      (e) => byOperator('successor')(e) && WRITES.has(e.verb) && e.objectRef?.resource !== 'leases',
    );
    expect(standbyWrites.length, 'the standby did the work').to.be.greaterThan(0);
    const takeover = Math.min(...standbyWrites.map(at));
    const late = await auditEvents((e) => byOperator('operator')(e) && WRITES.has(e.verb) && at(e) >= takeover);
    expect(
      late.map(
        (e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.subresource ?? ''} ${e.requestReceivedTimestamp}`,
      ),
      "no write by the stalled leader after the standby's first",
    ).to.deep.equal([]);
    const job = await runningJob(ns, NAME);
    expect(done.status?.jobStatus?.jobId).to.equal(job.jid);
    await expectExactlyOneJob(ns);
    expect(await eventually('Flink to report the restore', () => restoredFrom(job.url, job.jid))).to.equal(
      done.status?.jobStatus?.upgradeSavepointPath,
    );
  });

  it('waits with backoff and an event when Flink fails the checkpoint lookup of a last-state upgrade, never restoring an older snapshot', async () => {
    const ns = namespace();
    const stack = await localStack();
    const proxy = await startFlinkProxy(
      stack.flinkRestOverridesFile,
      join(await scratchDir('proxy'), 'overrides.json'),
    );
    try {
      await runAlone('proxied', { flinkRestOverrides: proxy.overridesFile });
      await apply(ns, statefulDeployment('last-state'));
      const stable = await waitForLifecycle(ns, NAME, 'STABLE');
      const before = await runningJob(ns, NAME);
      // A checkpoint to restore from must exist before the upgrade starts (the first ones fail while tasks start).
      const checkpointOf = async (url: string, jid: string) =>
        (
          (await (await fetch(`${url}/jobs/${jid}/checkpoints`)).json()) as {
            latest?: { completed?: { id: number; external_path?: string } };
          }
        ).latest?.completed;
      await eventually(
        'a completed checkpoint',
        async () => (await checkpointOf(before.url, before.jid))?.external_path,
        30_000,
      );
      const jmUid = JSON.parse((await kubectl(['get', 'deployment', NAME, '-n', ns, '-o', 'json'])).stdout).metadata
        .uid as string;

      proxy.fail(/^\/jobs\/[0-9a-f]+\/checkpoints$/);
      await patchSpec(ns, NAME, { job: { parallelism: 3 } });
      await eventually(
        'a Warning event naming the lookup',
        async () =>
          (await events(ns, NAME)).some((e) => e.type === 'Warning' && e.message.includes('newest checkpoint')),
        30_000,
      );
      await new Promise((r) => setTimeout(r, 12_000));
      const waiting = await getDeployment(ns, NAME);
      expect(waiting?.status?.jobStatus?.upgradeSavepointPath, 'no restore point was guessed').to.equal(
        stable.status?.jobStatus?.upgradeSavepointPath,
      );
      const jm = JSON.parse((await kubectl(['get', 'deployment', NAME, '-n', ns, '-o', 'json'])).stdout) as {
        metadata: { uid: string };
      };
      expect(jm.metadata.uid, 'the cluster was not redeployed meanwhile').to.equal(jmUid);
      expect(proxy.failedCalls(), 'tries back off (1, 2, 4, 8 s …), not a hot loop').to.be.within(2, 8);

      // Flink answers again: the upgrade completes from the newest checkpoint.
      const lastCheckpoint = (await checkpointOf(before.url, before.jid))?.id ?? 0;
      proxy.fail(undefined);
      const done = await waitForUpgraded(ns, NAME, before.jid);
      const path = done.status?.jobStatus?.upgradeSavepointPath;
      expect(path).to.match(/chk-(\d+)$/);
      expect(Number(/chk-(\d+)$/.exec(path!)![1]), 'the newest checkpoint, not an older one').to.be.at.least(
        lastCheckpoint,
      );
      const job = await runningJob(ns, NAME);
      expect(await eventually('Flink to report the restore', () => restoredFrom(job.url, job.jid))).to.equal(path);
      expect((await flinkJobs(job.url)).filter((j) => j.state === 'RUNNING')).to.have.length(1);
    } finally {
      await proxy.close();
    }
  });
});
