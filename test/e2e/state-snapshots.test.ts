// FlinkStateSnapshot end to end: real kube-apiserver, real Flink, snapshots on the stack's disk. The upstream
// snapshot_*.yaml examples as they are, snapshots a job asks for (nonce, schedule, upgrade) as resources it owns,
// a session job's savepoint, and bad snapshots at admission and past it.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, kubectl, localStack, useStackNamespace } from '../support/stack.js';
import {
  apply,
  sessionJob,
  statefulSession,
  events,
  FILE_SNAPSHOTS,
  getDeployment,
  getResource,
  patchSpec,
  snapshotDir,
  statefulDeployment,
  upstreamDeployment,
  waitForLifecycle,
  waitForUpgraded,
} from '../support/flink-deployments.js';
import { upstreamExamples } from '../support/examples.js';
import type { FlinkStateSnapshot } from '../../api/types.generated.js';

type Snapshot = FlinkStateSnapshot & {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
};

const example = (file: string) =>
  structuredClone(upstreamExamples().find((e) => e.file === file && e.kind === 'FlinkStateSnapshot')!.object);
const getSnapshot = (ns: string, name: string) => getResource<Snapshot>('flinkstatesnapshot', ns, name);
const onDisk = (path: string | undefined) => path !== undefined && existsSync(join(snapshotDir(path), '_metadata'));

async function snapshotEnd(ns: string, name: string, timeoutMs = 90_000): Promise<Snapshot> {
  return eventually(
    `snapshot ${name} to end`,
    async () => {
      const s = await getSnapshot(ns, name);
      // The label follows the status in a write of its own: ended once both say so.
      return s?.status?.state &&
        !['TRIGGER_PENDING', 'IN_PROGRESS'].includes(s.status.state) &&
        s.metadata.labels?.['snapshot.state'] === s.status.state
        ? s
        : undefined;
    },
    timeoutMs,
  );
}

async function snapshotsOf(ns: string): Promise<Snapshot[]> {
  const result = await kubectl(['get', 'flinkstatesnapshots', '-n', ns, '-o', 'json']);
  expect(result.code, result.stderr).to.equal(0);
  return (JSON.parse(result.stdout) as { items: Snapshot[] }).items;
}

async function deleteSnapshot(ns: string, name: string): Promise<void> {
  const result = await kubectl(['delete', 'flinkstatesnapshot', name, '-n', ns, '--timeout=60s']);
  expect(result.code, result.stderr).to.equal(0);
}

/** `kubectl apply` of a snapshot that must be refused: the message the user sees. */
async function refused(ns: string, snapshot: unknown): Promise<string> {
  const result = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(snapshot));
  expect(result.code, 'refused').to.not.equal(0);
  return result.stderr;
}

const snapshotOf = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkStateSnapshot',
  metadata: { name },
  spec,
});

describe('FlinkStateSnapshot', function () {
  const namespace = useStackNamespace(this);
  this.timeout(420_000);

  it('the upstream snapshot_*.yaml examples on a running job: savepoints on disk (disposed of with their resource), a checkpoint, an existing savepoint recorded; a nonce and an upgrade add owned ones', async () => {
    const ns = namespace();
    await apply(ns, statefulDeployment('savepoint', 'example-deployment'));
    await waitForLifecycle(ns, 'example-deployment', 'STABLE');

    // Defaults: into the job's savepoint directory, labelled as upstream labels it, shown by kubectl's columns.
    await apply(ns, example('snapshot_savepoint-job-defaults.yaml'));
    const defaults = await snapshotEnd(ns, 'example-savepoint');
    expect(defaults.status, JSON.stringify(defaults.status)).to.include({ state: 'COMPLETED', failures: 0 });
    expect(onDisk(defaults.status?.path), `${defaults.status?.path} on disk`).to.equal(true);
    expect(defaults.metadata.labels).to.include({
      'snapshot.type': 'SAVEPOINT',
      'snapshot.trigger-type': 'MANUAL',
      'snapshot.state': 'COMPLETED',
      'job-reference.kind': 'FlinkDeployment',
      'job-reference.name': 'example-deployment',
    });
    const table = await kubectl(['get', 'flinksnp', 'example-savepoint', '-n', ns]);
    expect(table.stdout)
      .to.match(/PATH\s+RESULT TIMESTAMP\s+SNAPSHOT STATE/)
      .and.to.contain('COMPLETED')
      .and.to.contain(defaults.status!.path!);
    await deleteSnapshot(ns, 'example-savepoint');
    await eventually(
      'the disposed savepoint gone from disk',
      async () => !existsSync(snapshotDir(defaults.status!.path!)) || undefined,
      30_000,
    );

    // Full spec: its own directory (a path on the pod's volume).
    await apply(ns, example('snapshot_savepoint-job-full-spec.yaml'));
    const custom = await snapshotEnd(ns, 'example-savepoint');
    expect(custom.status?.state).to.equal('COMPLETED');
    expect(custom.status?.path).to.contain('/flink-data/savepoints-custom/savepoint-');
    expect(onDisk(custom.status?.path)).to.equal(true);
    await deleteSnapshot(ns, 'example-savepoint');

    // An existing savepoint: recorded as it is, nothing asked of Flink; disposeOnDelete false leaves it alone.
    await apply(ns, example('snapshot_savepoint-already-exists.yaml'));
    const existing = await snapshotEnd(ns, 'example-savepoint');
    expect(existing.status).to.include({
      state: 'COMPLETED',
      path: '/flink-data/savepoints/savepoint-98682a-21931bf10c39',
    });
    expect(existing.status?.triggerTimestamp).to.equal(existing.status?.resultTimestamp);
    await deleteSnapshot(ns, 'example-savepoint');

    await apply(ns, example('snapshot_checkpoint.yaml'));
    const checkpoint = await snapshotEnd(ns, 'example-checkpoint');
    expect(checkpoint.status?.state).to.equal('COMPLETED');
    expect(checkpoint.status?.path).to.match(/\/flink-data\/checkpoints\/[0-9a-f]{32}\/chk-\d+$/);

    // A nonce: one MANUAL snapshot the job owns; the job stays STABLE.
    await patchSpec(ns, 'example-deployment', { job: { savepointTriggerNonce: 1 } });
    const manual = await eventually('a manual snapshot owned by the job', async () =>
      (await snapshotsOf(ns)).find(
        (s) =>
          s.metadata.labels?.['snapshot.trigger-type'] === 'MANUAL' &&
          s.metadata.ownerReferences?.[0]?.name === 'example-deployment',
      ),
    );
    const manualDone = await snapshotEnd(ns, manual.metadata.name);
    expect(manualDone.status?.state).to.equal('COMPLETED');
    expect(onDisk(manualDone.status?.path)).to.equal(true);
    expect((await getDeployment(ns, 'example-deployment'))?.status?.lifecycleState).to.equal('STABLE');

    // An upgrade: its savepoint recorded as an UPGRADE snapshot, the one the new job restored from.
    const before = (await getDeployment(ns, 'example-deployment'))?.status?.jobStatus?.jobId;
    await patchSpec(ns, 'example-deployment', { job: { args: ['--events-per-second', '25'] } });
    const upgraded = await waitForUpgraded(ns, 'example-deployment', before);
    const upgrade = await eventually('an UPGRADE snapshot', async () =>
      (await snapshotsOf(ns)).find(
        (s) => s.metadata.labels?.['snapshot.trigger-type'] === 'UPGRADE' && s.status?.state === 'COMPLETED',
      ),
    );
    expect(upgrade.spec?.savepoint).to.include({ alreadyExists: true });
    expect(upgrade.status?.path).to.equal(upgraded.status?.jobStatus?.upgradeSavepointPath);
    expect(onDisk(upgrade.status?.path)).to.equal(true);
  });

  it('snapshot_job-from-savepoint.yaml: the savepoint said to exist is recorded COMPLETED at once; the job started from it, absent here, fails its JobManager with the reason', async () => {
    const ns = namespace();
    const documents = upstreamExamples()
      .filter((e) => e.file === 'snapshot_job-from-savepoint.yaml')
      .map((e) => e.object);
    expect(documents.map((d) => d.kind)).to.deep.equal(['FlinkStateSnapshot', 'FlinkDeployment']);
    await apply(ns, documents[0]);
    const recorded = await snapshotEnd(ns, 'example-savepoint');
    expect(recorded.status).to.include({
      state: 'COMPLETED',
      path: 'file:///flink-data/savepoints/savepoint-45305c-d867504446e0',
    });
    expect(recorded.status?.triggerTimestamp, 'nothing asked of Flink').to.equal(recorded.status?.resultTimestamp);

    // Flink fails the job at initialization and its JobManager exits: a crash loop, shown with Flink's own reason.
    await apply(ns, documents[1]);
    const failed = await eventually(
      'the JobManager in ERROR',
      async () => {
        const d = await getDeployment(ns, 'example-deployment');
        return d?.status?.jobManagerDeploymentStatus === 'ERROR' ? d : undefined;
      },
      180_000,
    );
    const error = JSON.parse(failed.status!.error!) as { type: string; message: string };
    expect(error.type).to.match(/DeploymentFailedException$/);
    expect(error.message)
      .to.match(/^\[flink-main-container\] CrashLoop - /)
      .and.include('savepoint-45305c-d867504446e0');
    expect(error.message.split('\n'), 'one line').to.have.length(1);
    const warning = (await events(ns, 'example-deployment')).find((e) => e.reason === 'CrashLoopBackOff');
    expect(warning, 'a Warning event').to.include({ type: 'Warning', message: error.message });
    // The cause as a user reads it in the crashed container's log (often far above the shutdown lines that end it).
    const logs = await kubectl([
      'logs',
      '-n',
      ns,
      '-l',
      'component=jobmanager',
      '-c',
      'flink-main-container',
      '--previous',
      '--tail=-1',
    ]);
    expect(logs.code, logs.stderr).to.equal(0);
    const cause = error.message.replace('[flink-main-container] CrashLoop - ', '');
    expect(logs.stdout).to.include(cause);
  });

  it('periodic savepoints as resources with history.max.count 2: the oldest deleted and, with dispose-on-delete, gone from disk', async () => {
    const ns = namespace();
    await apply(
      ns,
      upstreamDeployment('basic.yaml', (d) => {
        d.spec!.flinkConfiguration = {
          ...d.spec!.flinkConfiguration,
          ...FILE_SNAPSHOTS,
          'kubernetes.operator.periodic.savepoint.interval': '3 s',
          'kubernetes.operator.savepoint.history.max.count': '2',
          'kubernetes.operator.savepoint.dispose-on-delete': 'true',
        };
        d.spec!.job!.upgradeMode = 'savepoint';
        d.spec!.job!.args = ['--events-per-second', '20'];
      }),
    );
    await waitForLifecycle(ns, 'basic-example', 'STABLE');
    const paths = new Map<string, string>();
    let most = 0;
    await eventually(
      'five periodic savepoints taken',
      async () => {
        const periodic = (await snapshotsOf(ns)).filter(
          (s) => s.metadata.labels?.['snapshot.trigger-type'] === 'PERIODIC',
        );
        for (const s of periodic) if (s.status?.path) paths.set(s.metadata.name, s.status.path);
        most = Math.max(
          most,
          periodic.filter(
            (s) => s.status?.state === 'COMPLETED' && !(s.metadata as { deletionTimestamp?: string }).deletionTimestamp,
          ).length,
        );
        return paths.size >= 5 || undefined;
      },
      150_000,
    );
    expect(most, 'completed periodic snapshots kept at once').to.be.at.most(2);
    const kept = new Set((await snapshotsOf(ns)).map((s) => s.metadata.name));
    const gone = [...paths].filter(([name]) => !kept.has(name)).map(([, path]) => path);
    expect(gone.length).to.be.at.least(2);
    await eventually(
      'the deleted ones disposed of',
      async () => gone.every((p) => !existsSync(snapshotDir(p))) || undefined,
      60_000,
    );
  });

  it('a FlinkSessionJob: a savepoint from its nonce, and a FlinkStateSnapshot pointing at it', async () => {
    const ns = namespace();
    await apply(ns, statefulSession());
    await apply(ns, sessionJob('orders', 'session', { parallelism: 1, args: [] }));
    await waitForLifecycle(ns, 'orders', 'STABLE', 180_000, [], 'flinksessionjob');
    await patchSpec(ns, 'orders', { job: { savepointTriggerNonce: 1 } }, 'flinksessionjob');
    const manual = await eventually('the session job savepoint', async () =>
      (await snapshotsOf(ns)).find((s) => s.metadata.ownerReferences?.[0]?.kind === 'FlinkSessionJob'),
    );
    expect(manual.spec?.jobReference).to.deep.equal({ kind: 'FlinkSessionJob', name: 'orders' });
    expect(onDisk((await snapshotEnd(ns, manual.metadata.name)).status?.path)).to.equal(true);

    await apply(
      ns,
      snapshotOf('orders-by-hand', { jobReference: { kind: 'FlinkSessionJob', name: 'orders' }, savepoint: {} }),
    );
    const byHand = await snapshotEnd(ns, 'orders-by-hand');
    expect(byHand.status?.state).to.equal('COMPLETED');
    expect(onDisk(byHand.status?.path)).to.equal(true);
    expect(byHand.metadata.labels).to.include({
      'job-reference.kind': 'FlinkSessionJob',
      'job-reference.name': 'orders',
    });
  });

  it('bad snapshots: refused at admission with field paths; past admission, FAILED with the reason; Flink failing it, retried up to backoffLimit', async () => {
    const ns = namespace();
    const stack = await localStack();
    // A job that is suspended from the start runs nothing (no cluster): cheap to name.
    await apply(
      ns,
      upstreamDeployment('basic.yaml', (d) => {
        d.metadata.name = 'sleeping';
        d.spec!.job!.state = 'suspended';
      }),
    );
    await apply(
      ns,
      upstreamDeployment('basic-session-deployment-only.yaml', (d) => (d.metadata.name = 'session')),
    );
    const reference = (kind: string, name: string) => ({ jobReference: { kind, name }, savepoint: {} });
    expect(await refused(ns, snapshotOf('a', reference('FlinkDeployment', 'nowhere')))).to.contain(
      'spec.jobReference.name: FlinkDeployment "nowhere" does not exist in this namespace',
    );
    expect(await refused(ns, snapshotOf('b', reference('FlinkDeployment', 'sleeping')))).to.contain(
      'spec.jobReference.name: FlinkDeployment "sleeping" is suspended',
    );
    expect(await refused(ns, snapshotOf('c', reference('FlinkDeployment', 'session')))).to.contain(
      'is a session cluster',
    );
    expect(await refused(ns, snapshotOf('d', reference('Deployment', 'x')))).to.contain('spec.jobReference.kind');
    expect(
      await refused(ns, snapshotOf('e', { ...reference('FlinkDeployment', 'sleeping'), checkpoint: {} })),
    ).to.contain('exactly one of spec.savepoint and spec.checkpoint must be set');

    await stack.unregisterWebhook();
    try {
      await eventually(
        'a snapshot admitted without the webhook',
        async () =>
          (
            await kubectl(
              ['apply', '-n', ns, '-f', '-'],
              JSON.stringify(snapshotOf('past-admission', reference('FlinkDeployment', 'nowhere'))),
            )
          ).code === 0,
        30_000,
      );
    } finally {
      await stack.registerWebhook();
    }
    const failed = await snapshotEnd(ns, 'past-admission');
    expect(failed.status).to.include({
      state: 'FAILED',
      error: 'spec.jobReference.name: FlinkDeployment "nowhere" does not exist in this namespace',
    });
    expect((await events(ns, 'past-admission')).map((e) => e.reason)).to.include('ValidationError');

    // Flink fails a savepoint into a file system it does not have (`nofs://`): attempt, 10 s, attempt, FAILED with its words.
    await apply(ns, statefulDeployment('savepoint', 'job'));
    await waitForLifecycle(ns, 'job', 'STABLE');
    await apply(
      ns,
      snapshotOf('nowhere-to-write', {
        jobReference: { kind: 'FlinkDeployment', name: 'job' },
        savepoint: { path: 'nofs://bucket/savepoints' },
        backoffLimit: 1,
      }),
    );
    const given = await snapshotEnd(ns, 'nowhere-to-write', 120_000);
    expect(given.status).to.include({ state: 'FAILED', failures: 2 });
    expect(given.status?.error, "Flink's words").to.match(/IO-problem detected.*UnsupportedFileSystemSchemeException/);
    expect((await events(ns, 'nowhere-to-write')).filter((e) => e.reason === 'SavepointError').length).to.be.at.least(
      1,
    );
  });
});
