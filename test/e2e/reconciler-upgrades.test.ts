// Upgrades, suspend and resume end to end: the state a job had is the state Flink restores, checked on Flink.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, kubectl, useStackNamespace } from '../support/stack.js';
import {
  allRunningJobs, events, getDeployment, jobDetails, patchSpec, restoredFrom, restUrl, runningJob, snapshotDir, statefulDeployment, apply, waitForLifecycle,
} from '../support/flink-deployments.js';

const NAME = 'basic-example';

/** Changes job.parallelism 2 → 3 and waits for the upgraded job; returns the old and new job and the status. */
async function upgradeParallelism(ns: string) {
  const before = await runningJob(ns, NAME);
  await eventually('a first completed checkpoint', async () => {
    const stats = (await (await fetch(`${before.url}/jobs/${before.jid}/checkpoints`)).json()) as { counts?: { completed?: number } };
    return (stats.counts?.completed ?? 0) > 0;
  });
  await patchSpec(ns, NAME, { job: { parallelism: 3 } });
  const seen: string[] = [];
  await eventually('the upgrade to start', async () => (await getDeployment(ns, NAME))?.status?.lifecycleState === 'UPGRADING' && seen.push('UPGRADING'), 60_000);
  const upgraded = await waitForLifecycle(ns, NAME, 'STABLE', 180_000, seen);
  const after = await runningJob(ns, NAME);
  expect(upgraded.status?.jobStatus?.jobId, 'status follows the new job').to.equal(after.jid);
  expect((await jobDetails(after.url, after.jid)).vertices.every((v) => v.parallelism === 3), 'Flink runs the new parallelism').to.equal(true);
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
    expect(await eventually('Flink to report the restore', () => restoredFrom(after.url, after.jid))).to.equal(savepoint);
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
    expect(await eventually('Flink to report the restore', () => restoredFrom(after.url, after.jid))).to.equal(checkpoint);
  });

  it('upgrades with upgradeMode stateless by starting the new job empty', async () => {
    const ns = namespace();
    await apply(ns, statefulDeployment('stateless'));
    await waitForLifecycle(ns, NAME, 'STABLE');
    const { after, status } = await upgradeParallelism(ns);
    expect(status.jobStatus?.upgradeSavepointPath).to.equal(undefined);
    expect(await restoredFrom(after.url, after.jid), 'nothing restored').to.equal(undefined);
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
    await eventually('the cluster to be gone', async () => {
      const left = await kubectl(['get', 'deployments,pods', '-n', ns, '-l', `app=${NAME}`, '-o', 'name']);
      return left.stdout.trim() === '' && (await restUrl(ns, NAME)) === undefined;
    }, 60_000);
    expect((await getDeployment(ns, NAME))?.status?.jobManagerDeploymentStatus).to.equal('MISSING');

    await patchSpec(ns, NAME, { job: { state: 'running' } });
    await waitForLifecycle(ns, NAME, 'STABLE');
    const resumed = await runningJob(ns, NAME);
    expect(await eventually('Flink to report the restore', () => restoredFrom(resumed.url, resumed.jid))).to.equal(savepoint);
  });
});
