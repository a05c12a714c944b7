// A JobManager pod in the local cluster gets a real Flink: hand-written Deployment + ConfigMap, as the reconciler
// will create them, checked on Flink's REST API through the published address.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedFlinkVersion } from '../../local/flink/runner-build.js';
import { repoRoot } from '../support/paths.js';
import { JOB_ID, jobManager } from '../support/jobmanager.js';
import { eventually, kubectl, localStack, useStackNamespace } from '../support/stack.js';

describe('real Flink behind JobManager pods', function () {
  const namespace = useStackNamespace(this);
  this.timeout(300_000);

  it('starts a Flink for a JobManager pod, runs its job, publishes its address, and stops it with the pod', async () => {
    const ns = namespace();
    const stack = await localStack();
    expect((await kubectl(['apply', '-f', '-'], jobManager(ns, 'demo'))).code).to.equal(0);

    const restUrl = await eventually(
      "the runner to publish demo's REST address",
      async () => {
        if (!existsSync(stack.flinkRestOverridesFile)) return undefined;
        return (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)[`${ns}/demo`];
      },
      180_000,
    );
    const config = (await (await fetch(`${restUrl}/config`)).json()) as { 'flink-version': string };
    expect(config['flink-version']).to.equal(pinnedFlinkVersion(join(repoRoot, 'local/flink-runner')));

    const job = await eventually(
      'the job RUNNING',
      async () => {
        const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as {
          jobs: { jid: string; state: string }[];
        };
        return jobs.find((j) => j.state === 'RUNNING');
      },
      120_000,
    );
    expect(job.jid, 'the pinned job id is the id Flink runs').to.equal(JOB_ID);

    const cluster = stack.flinkRunner!.cluster(ns, 'demo')!;
    const pid = cluster.process.pid;
    expect((await kubectl(['scale', 'deployment', 'demo', '-n', ns, '--replicas=0'])).code).to.equal(0);
    const podGone = await eventually(
      'the pod to go',
      async () =>
        (await kubectl(['get', 'pods', '-n', ns, '-l', 'app=demo', '-o', 'name'])).stdout.trim() === '' && Date.now(),
    );
    await eventually('the JVM to stop', async () => !cluster.process.running(), 10_000);
    expect(Date.now() - podGone, 'JVM stopped within 10 s of the pod going').to.be.below(10_000);
    expect(existsSync(`/proc/${pid}`)).to.equal(false);
    const refused = await fetch(`${restUrl}/config`).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
    await eventually(
      'the address to be withdrawn',
      async () =>
        !(`${ns}/demo` in (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)),
    );
  });

  it('stops with a savepoint on disk, and a new pod that names it restores from it', async () => {
    const ns = namespace();
    const stack = await localStack();
    const dirs = ['execution.checkpointing.savepoint-dir: file:///flink-data/savepoints'];
    expect((await kubectl(['apply', '-f', '-'], jobManager(ns, 'stateful', dirs))).code).to.equal(0);
    const address = () =>
      (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)[`${ns}/stateful`];
    const running = async (restUrl: string) => {
      const job = (await (await fetch(`${restUrl}/jobs/${JOB_ID}`)).json()) as {
        state: string;
        vertices: { status: string }[];
      };
      return job.state === 'RUNNING' && job.vertices.every((v) => v.status === 'RUNNING');
    };
    const first = await eventually('the first Flink', async () => address(), 180_000);
    await eventually('the job to run', () => running(first), 120_000);

    // As the operator does: stop with a savepoint into the configured directory.
    const trigger = (await (
      await fetch(`${first}/jobs/${JOB_ID}/stop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"drain":false}',
      })
    ).json()) as { 'request-id': string };
    const location = await eventually('the savepoint', async () => {
      const status = (await (await fetch(`${first}/jobs/${JOB_ID}/savepoints/${trigger['request-id']}`)).json()) as {
        status: { id: string };
        operation?: { location?: string };
      };
      return status.status.id === 'COMPLETED' && status.operation?.location;
    });
    expect(existsSync(join(location.replace(/^file:/, ''), '_metadata')), `${location}/_metadata on disk`).to.equal(
      true,
    );

    expect((await kubectl(['scale', 'deployment', 'stateful', '-n', ns, '--replicas=0'])).code).to.equal(0);
    await eventually('the first Flink to go', async () => address() === undefined, 30_000);
    const withSavepoint = JSON.parse(
      jobManager(ns, 'stateful', [...dirs, `execution.savepoint.path: ${location}`]),
    ) as { items: unknown[] };
    expect(
      (await kubectl(['apply', '-f', '-'], JSON.stringify({ ...withSavepoint, items: [withSavepoint.items[0]] }))).code,
    ).to.equal(0);
    expect((await kubectl(['scale', 'deployment', 'stateful', '-n', ns, '--replicas=1'])).code).to.equal(0);

    const second = await eventually('the second Flink', async () => address(), 180_000);
    await eventually('the restored job to run', () => running(second), 120_000);
    const checkpoints = (await (await fetch(`${second}/jobs/${JOB_ID}/checkpoints`)).json()) as {
      latest: { restored?: { external_path: string } };
    };
    expect(checkpoints.latest.restored?.external_path, 'Flink reports the restore').to.equal(location);
  });

  it('fits four JobManagers at once, each running its job', async () => {
    const ns = namespace();
    const stack = await localStack();
    const apps = ['one', 'two', 'three', 'four'];
    for (const app of apps) expect((await kubectl(['apply', '-f', '-'], jobManager(ns, app))).code).to.equal(0);
    await eventually(
      'four jobs RUNNING',
      async () => {
        const overrides = JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>;
        const states = await Promise.all(
          apps.map(async (app) => {
            const url = overrides[`${ns}/${app}`];
            if (!url) return 'no Flink yet';
            const { jobs } = (await (await fetch(`${url}/jobs/overview`)).json()) as { jobs: { state: string }[] };
            return jobs.map((j) => j.state).join(',');
          }),
        );
        return states.every((state) => state === 'RUNNING');
      },
      240_000,
    );
    expect((await kubectl(['delete', 'deployment', '--all', '-n', ns])).code).to.equal(0);
  });
});
