// Savepoints and checkpoints on demand and on schedule, end to end: real kube-apiserver, real Flink, snapshots on
// the stack's disk — in the legacy status mode (savepointInfo / checkpointInfo in the resource's status), which
// each resource here chooses; FlinkStateSnapshot resources, the default, are in state-snapshots.test.ts.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, useStackNamespace } from '../support/stack.js';
import {
  apply,
  sessionJob,
  statefulSession,
  FILE_SNAPSHOTS,
  getResource,
  patchSpec,
  snapshotDir,
  statefulDeployment,
  upstreamDeployment,
  waitForLifecycle,
  type Deployment,
  type ResourceKind,
} from '../support/flink-deployments.js';
import type { JobStatus } from '../../api/types.generated.js';

type WithJob = { status?: { jobStatus?: JobStatus } };

const LEGACY = { 'kubernetes.operator.snapshot.resource.enabled': 'false' };

/** A stateful basic.yaml in the legacy status mode. */
function legacyDeployment(upgradeMode: 'savepoint'): Deployment {
  const d = statefulDeployment(upgradeMode);
  d.spec!.flinkConfiguration = { ...d.spec!.flinkConfiguration, ...LEGACY };
  return d;
}

const onDisk = (location: string | undefined) =>
  location !== undefined && existsSync(join(snapshotDir(location), '_metadata'));

async function jobStatus(kind: ResourceKind, ns: string, name: string): Promise<JobStatus | undefined> {
  return (await getResource<WithJob>(kind, ns, name))?.status?.jobStatus;
}

describe('snapshots on demand and on schedule', function () {
  const namespace = useStackNamespace(this);
  this.timeout(300_000);

  it('savepointTriggerNonce: one savepoint per new nonce, on disk and in status; two bumps in a row, one at a time', async () => {
    const ns = namespace();
    await apply(ns, legacyDeployment('savepoint'));
    await waitForLifecycle(ns, 'basic-example', 'STABLE');

    await patchSpec(ns, 'basic-example', { job: { savepointTriggerNonce: 1 } });
    const first = await eventually(
      'the savepoint for nonce 1',
      async () => {
        const last = (await jobStatus('flinkdeployment', ns, 'basic-example'))?.savepointInfo?.lastSavepoint;
        return last?.triggerNonce === 1 ? last : undefined;
      },
      60_000,
    );
    expect(first.triggerType).to.equal('MANUAL');
    expect(onDisk(first.location), `${first.location} on disk`).to.equal(true);

    await patchSpec(ns, 'basic-example', { job: { savepointTriggerNonce: 2 } });
    await patchSpec(ns, 'basic-example', { job: { savepointTriggerNonce: 3 } });
    const info = await eventually(
      'the savepoint for nonce 3',
      async () => {
        const s = (await jobStatus('flinkdeployment', ns, 'basic-example'))?.savepointInfo;
        return s?.lastSavepoint?.triggerNonce === 3 && !s.triggerId ? s : undefined;
      },
      90_000,
    );
    const nonces = (info.savepointHistory ?? []).map((s) => s.triggerNonce);
    expect(nonces[0], 'the first savepoint').to.equal(1);
    expect(nonces.length, 'one savepoint per acted-on nonce: 1, then 3 (or 2 and 3), never two at once').to.be.within(
      2,
      3,
    );
    for (const s of info.savepointHistory ?? []) expect(onDisk(s.location), `${s.location} on disk`).to.equal(true);
    const d = await getResource<Deployment>('flinkdeployment', ns, 'basic-example');
    expect(d?.status?.lifecycleState, 'a snapshot is not an upgrade').to.equal('STABLE');
  });

  it('periodic savepoints with history.max.count 2: at most two kept in status and on disk, the disposed ones gone', async () => {
    const ns = namespace();
    await apply(
      ns,
      upstreamDeployment('basic.yaml', (d) => {
        d.spec!.flinkConfiguration = {
          ...d.spec!.flinkConfiguration,
          ...FILE_SNAPSHOTS,
          ...LEGACY,
          'kubernetes.operator.periodic.savepoint.interval': '3 s',
          'kubernetes.operator.savepoint.history.max.count': '2',
        };
        d.spec!.job!.upgradeMode = 'savepoint';
        d.spec!.job!.args = ['--events-per-second', '20'];
      }),
    );
    await waitForLifecycle(ns, 'basic-example', 'STABLE');
    const seen = new Set<string>();
    let longest = 0;
    const info = await eventually(
      'five periodic savepoints taken',
      async () => {
        const s = (await jobStatus('flinkdeployment', ns, 'basic-example'))?.savepointInfo;
        for (const entry of s?.savepointHistory ?? []) if (entry.location) seen.add(entry.location);
        longest = Math.max(longest, (s?.savepointHistory ?? []).length);
        return seen.size >= 5 ? s : undefined;
      },
      120_000,
    );
    expect(longest, 'the history never grew past two').to.be.at.most(2);
    expect(info.lastSavepoint?.triggerType).to.equal('PERIODIC');
    const kept = new Set((info.savepointHistory ?? []).map((s) => s.location!));
    for (const location of kept) expect(onDisk(location), `${location} kept on disk`).to.equal(true);
    const disposed = [...seen].filter((l) => !kept.has(l));
    await eventually(
      'the disposed savepoints gone from disk',
      async () => disposed.every((l) => !existsSync(snapshotDir(l))) || undefined,
      60_000,
    );
  });

  it('checkpointTriggerNonce on a FlinkSessionJob: a full checkpoint recorded in status; savepointTriggerNonce: a savepoint on disk', async () => {
    const ns = namespace();
    await apply(ns, statefulSession());
    await apply(ns, sessionJob('orders', 'session', { parallelism: 1, args: [] }, LEGACY));
    await waitForLifecycle(ns, 'orders', 'STABLE', 180_000, [], 'flinksessionjob');
    await patchSpec(ns, 'orders', { job: { checkpointTriggerNonce: 1, savepointTriggerNonce: 1 } }, 'flinksessionjob');
    const job = await eventually(
      'both snapshots recorded',
      async () => {
        const j = await jobStatus('flinksessionjob', ns, 'orders');
        return j?.checkpointInfo?.lastCheckpoint?.triggerNonce === 1 &&
          j.savepointInfo?.lastSavepoint?.triggerNonce === 1
          ? j
          : undefined;
      },
      90_000,
    );
    expect(job.checkpointInfo?.lastCheckpoint).to.include({ triggerType: 'MANUAL', formatType: 'FULL' });
    expect(onDisk(job.savepointInfo?.lastSavepoint?.location)).to.equal(true);
  });
});
