// Upgrades, suspend and resume end to end: the state a job had is the state Flink restores, checked on Flink.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, kubectl, useStackNamespace } from '../support/stack.js';
import {
  aCompletedCheckpoint,
  allRunningJobs,
  apply,
  eventRecorded,
  events,
  getDeployment,
  inOrder,
  jobDetails,
  patchSpec,
  restoredFrom,
  restUrl,
  runningJob,
  snapshotDir,
  statefulDeployment,
  waitForLifecycle,
  waitForUpgraded,
  watchLifecycle,
} from '../support/flink-deployments.js';

const NAME = 'basic-example';

/** Changes job.parallelism 2 → 3 and waits for the upgraded job; returns the old and new job and the status. */
async function upgradeParallelism(ns: string) {
  const before = await runningJob(ns, NAME);
  await aCompletedCheckpoint(before);
  const watch = await watchLifecycle(ns, NAME);
  await patchSpec(ns, NAME, { job: { parallelism: 3 } });
  await eventRecorded(ns, NAME, 'SpecChanged');
  const upgraded = await waitForUpgraded(ns, NAME, before.jid).finally(() => setTimeout(watch.stop, 500));
  await new Promise((r) => setTimeout(r, 600));
  expect(
    inOrder(watch.seen(), ['STABLE', 'UPGRADING', 'DEPLOYED', 'STABLE']),
    `lifecycle: ${watch.seen().join(' → ')}`,
  ).to.equal(true);
  const after = await runningJob(ns, NAME);
  expect(upgraded.status?.jobStatus?.jobId, 'status follows the new job').to.equal(after.jid);
  expect(
    (await jobDetails(after.url, after.jid)).vertices.every((v) => v.parallelism === 3),
    'Flink runs the new parallelism',
  ).to.equal(true);
  const mine = (await allRunningJobs()).filter((j) => j.cluster === `${ns}/${NAME}`);
  expect(mine, 'exactly one job runs for the resource').to.have.length(1);
  return { before, after, status: upgraded.status! };
}

describe('reconciler: upgrades, suspend and resume', function () {
  const namespace = useStackNamespace(this);
  this.timeout(420_000);

  it('upgrades with upgradeMode savepoint through a real savepoint the new job restores from', async () => {
    const ns = namespace();
    await apply(ns, statefulDeployment('savepoint'));
    await waitForLifecycle(ns, NAME, 'STABLE');
    const { before, after, status } = await upgradeParallelism(ns);
    const savepoint = status.jobStatus?.upgradeSavepointPath;
    expect(savepoint, 'status.jobStatus.upgradeSavepointPath').to.match(/savepoint-/);
    expect(existsSync(join(snapshotDir(savepoint!), '_metadata')), `${savepoint}/_metadata on disk`).to.equal(true);
    expect(after.jid).to.not.equal(before.jid);
    expect(await eventually('Flink to report the restore', () => restoredFrom(after.url, after.jid))).to.equal(
      savepoint,
    );
    const reasons = (await events(ns, NAME)).map((e) => e.reason);
    expect(reasons).to.include.members(['SpecChanged', 'Suspended', 'Submit']);
  });

  it('upgrades with upgradeMode last-state from the latest retained checkpoint', async () => {
    const ns = namespace();
    await apply(ns, statefulDeployment('last-state'));
    await waitForLifecycle(ns, NAME, 'STABLE');
    const { after, status } = await upgradeParallelism(ns);
    const checkpoint = status.jobStatus?.upgradeSavepointPath;
    expect(checkpoint, 'the checkpoint the upgrade restores from').to.match(/chk-\d+/);
    expect(existsSync(join(snapshotDir(checkpoint!), '_metadata'))).to.equal(true);
    expect(await eventually('Flink to report the restore', () => restoredFrom(after.url, after.jid))).to.equal(
      checkpoint,
    );
  });

  it('upgrades with upgradeMode stateless by starting the new job empty; suspended, its job reads FINISHED, not RUNNING', async () => {
    const ns = namespace();
    await apply(ns, statefulDeployment('stateless'));
    await waitForLifecycle(ns, NAME, 'STABLE');
    const { after, status } = await upgradeParallelism(ns);
    expect(status.jobStatus?.upgradeSavepointPath).to.equal(undefined);
    expect(await restoredFrom(after.url, after.jid), 'nothing restored').to.equal(undefined);

    await patchSpec(ns, NAME, { job: { state: 'suspended' } });
    await eventually(
      'the cluster to be gone',
      async () =>
        (await getDeployment(ns, NAME))?.status?.jobManagerDeploymentStatus === 'MISSING' &&
        (await restUrl(ns, NAME)) === undefined,
      60_000,
    );
    const table = (await kubectl(['get', 'flinkdeployments', NAME, '-n', ns])).stdout;
    expect(table, 'what kubectl get shows under JOB STATUS').to.match(
      new RegExp(`^${NAME}\\s+FINISHED\\s+SUSPENDED\\b`, 'm'),
    );
  });

  it('suspends with a savepoint and nothing left running, then resumes from that savepoint', async () => {
    const ns = namespace();
    await apply(ns, statefulDeployment('savepoint'));
    await waitForLifecycle(ns, NAME, 'STABLE');
    await runningJob(ns, NAME);
    await patchSpec(ns, NAME, { job: { state: 'suspended' } });
    const suspended = await waitForLifecycle(ns, NAME, 'SUSPENDED');
    const savepoint = suspended.status?.jobStatus?.upgradeSavepointPath;
    expect(existsSync(join(snapshotDir(savepoint!), '_metadata')), `${savepoint}/_metadata on disk`).to.equal(true);
    await eventually(
      'the cluster to be gone',
      async () => {
        const left = await kubectl(['get', 'deployments,pods', '-n', ns, '-l', `app=${NAME}`, '-o', 'name']);
        return left.stdout.trim() === '' && (await restUrl(ns, NAME)) === undefined;
      },
      60_000,
    );
    expect((await getDeployment(ns, NAME))?.status?.jobManagerDeploymentStatus).to.equal('MISSING');

    await patchSpec(ns, NAME, { job: { state: 'running' } });
    await waitForUpgraded(ns, NAME, suspended.status?.jobStatus?.jobId);
    const resumed = await runningJob(ns, NAME);
    expect(await eventually('Flink to report the restore', () => restoredFrom(resumed.url, resumed.jid))).to.equal(
      savepoint,
    );
  });

  it('rolls a spec whose job cannot start back to the last stable spec, restored from the upgrade savepoint', async () => {
    const ns = namespace();
    const deployment = statefulDeployment('savepoint');
    deployment.spec!.flinkConfiguration = {
      ...deployment.spec!.flinkConfiguration,
      'kubernetes.operator.deployment.rollback.enabled': 'true',
      'kubernetes.operator.deployment.readiness.timeout': '10 s',
      'high-availability.type': 'kubernetes',
      'high-availability.storageDir': 'file:///flink-data/ha',
    };
    await apply(ns, deployment);
    await waitForLifecycle(ns, NAME, 'STABLE');
    await runningJob(ns, NAME);
    const watch = await watchLifecycle(ns, NAME);
    await patchSpec(ns, NAME, { job: { args: ['--fail-in-main'] } });
    const rolledBack = await waitForLifecycle(ns, NAME, 'ROLLED_BACK', 180_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; status: ${JSON.stringify((await getDeployment(ns, NAME))?.status)}`);
    });
    await new Promise((r) => setTimeout(r, 600));
    watch.stop();
    expect(
      inOrder(watch.seen(), ['UPGRADING', 'DEPLOYED', 'ROLLING_BACK', 'ROLLED_BACK']),
      `lifecycle: ${watch.seen().join(' → ')}`,
    ).to.equal(true);
    expect(rolledBack.spec?.job?.args, "the user's spec is left as they wrote it").to.deep.equal(['--fail-in-main']);

    const job = await runningJob(ns, NAME);
    expect(rolledBack.status?.jobStatus?.jobId).to.equal(job.jid);
    const savepoint = rolledBack.status?.jobStatus?.upgradeSavepointPath;
    expect(await eventually('Flink to report the restore', () => restoredFrom(job.url, job.jid))).to.equal(savepoint);
    expect((await allRunningJobs()).filter((j) => j.cluster === `${ns}/${NAME}`)).to.have.length(1);
    expect((await events(ns, NAME)).map((e) => e.reason)).to.include('Rollback');
  });
});
