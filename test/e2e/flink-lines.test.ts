// The version matrix: the application lifecycle and a session job on each Flink line other than the default (2.2,
// which the rest of the suite runs on), each on the real Flink of the line its resource names — 1.20 LTS, where most
// clusters still are, and the newest, 2.3. What a user would notice: the Flink version the cluster reports, the file
// that Flink reads its configuration from, and state that survives every upgrade.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dialect } from '../../api/flink-versions.js';
import { FLINK_LINES } from '../../local/flink/runner-build.js';
import { eventually, kubectl, useStackNamespace } from '../support/stack.js';
import {
  aCompletedCheckpoint,
  apply,
  getDeployment,
  patchSpec,
  restoredFrom,
  runningJob,
  sessionJob,
  snapshotDir,
  statefulSession,
  upstreamDeployment,
  waitForLifecycle,
  waitForSessionJob,
  waitForUpgraded,
  type Deployment,
} from '../support/flink-deployments.js';

const NAME = 'basic-checkpoint-ha-example';

/** The resource as a user of that line writes it: the version and the image of the line. */
function onLine<T extends Deployment>(d: T, flinkVersion: string, flink: string): T {
  d.spec!.flinkVersion = flinkVersion as NonNullable<Deployment['spec']>['flinkVersion'];
  d.spec!.image = `flink:${flink.split('.').slice(0, 2).join('.')}`;
  return d;
}

/** The upgraded job restored from where the status says, and the location. */
async function upgradedFrom(ns: string, previousJobId: string | undefined): Promise<string> {
  const upgraded = await waitForUpgraded(ns, NAME, previousJobId);
  const job = await runningJob(ns, NAME);
  const location = upgraded.status?.jobStatus?.upgradeSavepointPath;
  expect(location, 'status.jobStatus.upgradeSavepointPath').to.be.a('string');
  expect(await eventually('Flink to report the restore', () => restoredFrom(job.url, job.jid))).to.equal(location);
  return location!;
}

for (const line of FLINK_LINES.filter((l) => !(l.runs as readonly string[]).includes('v2_2'))) {
  const flinkVersion = line.runs[line.runs.length - 1]!;

  describe(`Flink ${line.flink} (${flinkVersion}) end to end`, function () {
    const namespace = useStackNamespace(this);
    this.timeout(600_000);

    it('deploys to STABLE on that Flink, upgrades with a savepoint, then last-state with Kubernetes HA, suspends and resumes, and deletes without a trace', async () => {
      const ns = namespace();
      await apply(
        ns,
        onLine(
          upstreamDeployment('basic-checkpoint-ha.yaml', (d) => {
            d.spec!.flinkConfiguration = {
              ...d.spec!.flinkConfiguration,
              'execution.checkpointing.interval': '2 s',
              'kubernetes.operator.observer.progress-check.interval': '1 s',
            };
            d.spec!.job!.args = ['--events-per-second', '20'];
          }),
          flinkVersion,
          line.flink,
        ),
      );
      const stable = await waitForLifecycle(ns, NAME, 'STABLE');
      expect(stable.status?.clusterInfo?.['flink-version'], 'the Flink the cluster reports').to.equal(line.flink);
      const configMap = JSON.parse(
        (await kubectl(['get', 'configmap', `flink-config-${NAME}`, '-n', ns, '-o', 'json'])).stdout,
      ) as {
        data: Record<string, string>;
      };
      const file = dialect(flinkVersion).configFile;
      expect(Object.keys(configMap.data), `the file Flink ${line.flink} reads`).to.include(file);

      // A savepoint upgrade, then a last-state one: each new job restores the state the one before it had.
      const first = await runningJob(ns, NAME);
      await aCompletedCheckpoint(first);
      await patchSpec(ns, NAME, { job: { args: ['--events-per-second', '21'] } });
      const savepoint = await upgradedFrom(ns, first.jid);
      expect(savepoint).to.match(/savepoint-/);
      expect(existsSync(join(snapshotDir(savepoint), '_metadata')), `${savepoint}/_metadata on disk`).to.equal(true);

      const second = await runningJob(ns, NAME);
      await aCompletedCheckpoint(second);
      await patchSpec(ns, NAME, { job: { upgradeMode: 'last-state', args: ['--events-per-second', '22'] } });
      const lastState = await eventually(
        'the last-state upgrade restored from a checkpoint',
        async () => {
          const job = await runningJob(ns, NAME, 5000).catch(() => undefined);
          // The same job (last-state keeps its id), recovered by a new JobManager from a checkpoint, not the savepoint.
          const from = job && job.url !== second.url ? await restoredFrom(job.url, job.jid) : undefined;
          return from && /chk-\d+/.test(from) ? from : undefined;
        },
        180_000,
      );
      expect(lastState).to.match(/chk-\d+/);

      // Suspended with last-state the cluster goes and its HA metadata stays; resumed, the job comes back from it.
      await patchSpec(ns, NAME, { job: { state: 'suspended' } });
      await waitForLifecycle(ns, NAME, 'SUSPENDED');
      await patchSpec(ns, NAME, { job: { state: 'running' } });
      await waitForLifecycle(ns, NAME, 'STABLE');
      const resumed = await runningJob(ns, NAME);
      expect(await eventually('Flink to report the restore', () => restoredFrom(resumed.url, resumed.jid))).to.match(
        /chk-\d+/,
      );

      await kubectl(['delete', 'flinkdeployment', NAME, '-n', ns, '--wait=true', '--timeout=120s']);
      await eventually(
        'every object of the cluster, HA metadata included, to be gone',
        async () =>
          (
            await kubectl(['get', 'deployments,services,configmaps', '-n', ns, '-l', `app=${NAME}`, '-o', 'name'])
          ).stdout.trim() === '',
        120_000,
      );
    });

    it('runs a session job on a session cluster of that Flink', async () => {
      const ns = namespace();
      await apply(ns, onLine(statefulSession(), flinkVersion, line.flink));
      const session = await waitForLifecycle(ns, 'session', 'STABLE');
      expect(session.status?.clusterInfo?.['flink-version']).to.equal(line.flink);
      // That line's examples jar, at a URI of its own: the operator keeps what it fetched, and other suites count
      // the downloads of theirs.
      const jarURI = `https://artifacts.example.com/maven2/org/apache/flink/flink-examples-streaming/${line.flink}/flink-examples-streaming-${line.flink}.jar`;
      await apply(ns, sessionJob('orders', 'session', { jarURI }));
      const job = await waitForSessionJob(ns, 'orders', 'STABLE');
      expect(job.status?.jobStatus?.state).to.equal('RUNNING');
      await kubectl(['delete', 'flinksessionjob', 'orders', '-n', ns, '--wait=true', '--timeout=120s']);
      expect((await getDeployment(ns, 'session'))?.status?.lifecycleState).to.equal('STABLE');
    });
  });
}

describe('a Flink version the local stack does not run', function () {
  const namespace = useStackNamespace(this);
  this.timeout(180_000);

  it('is never run on another Flink: its pod cannot pull its image, and the status says which versions run here', async () => {
    const ns = namespace();
    await apply(
      ns,
      upstreamDeployment('basic.yaml', (d) => {
        d.spec!.flinkVersion = 'v2_1';
        d.spec!.image = 'flink:2.1';
      }),
    );
    const failed = await eventually(
      'the status to carry the pod error',
      async () => {
        const d = await getDeployment(ns, 'basic-example');
        return d?.status?.error?.includes('no local Flink runs flinkVersion v2_1') ? d : undefined;
      },
      120_000,
    );
    expect(failed.status?.error).to.contain('this stack runs Flink 2.2.1 (v2_2), 1.20.5 (v1_19, v1_20), 2.3.0 (v2_3)');
    const pods = JSON.parse(
      (await kubectl(['get', 'pods', '-n', ns, '-l', 'app=basic-example,component=jobmanager', '-o', 'json'])).stdout,
    ) as { items: { status: { containerStatuses?: { state: { waiting?: { reason: string } } }[] } }[] };
    expect(pods.items.map((p) => p.status.containerStatuses?.[0]?.state.waiting?.reason)).to.deep.equal([
      'ErrImagePull',
    ]);
    expect(failed.status?.jobStatus?.state, 'no job runs anywhere').to.not.equal('RUNNING');
  });
});
