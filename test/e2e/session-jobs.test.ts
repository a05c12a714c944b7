// Session clusters and FlinkSessionJobs end to end: real kube-apiserver, real Flink sessions, jars fetched from the
// local artifacts.example.com through the operator's HTTPS_PROXY, the operator as its own least-privileged user.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, kubectl, localStack, runAlone, scratchDir, useStackNamespace } from '../support/stack.js';
import { startFlinkProxy } from '../support/flink-proxy.js';
import {
  apply,
  events,
  eventRecorded,
  expectFetchFailures,
  getResource,
  getSessionJob,
  patchSpec,
  restoredFrom,
  restUrl,
  runningIds,
  sessionJob,
  sessionJobs,
  snapshotDir,
  statefulSession,
  waitForLifecycle,
  waitForSessionJob,
  type Deployment,
  type SessionJob,
} from '../support/flink-deployments.js';
import { upstreamExamplesDir } from '../support/paths.js';

/** A stateful session with `orders` (savepoint) and `payments` on it, both STABLE. */
async function twoJobsRunning(ns: string, payments: Record<string, unknown> = {}): Promise<[SessionJob, SessionJob]> {
  await apply(ns, statefulSession());
  await apply(ns, sessionJob('orders'));
  await apply(ns, sessionJob('payments', 'session', payments));
  return [await waitForSessionJob(ns, 'orders', 'STABLE'), await waitForSessionJob(ns, 'payments', 'STABLE')];
}

describe('session clusters and FlinkSessionJobs', function () {
  const namespace = useStackNamespace(this);
  this.timeout(400_000);

  it('runs the upstream session examples unchanged: each job RUNNING in its session under the id in its status, STABLE, listed by kubectl get sessionjob', async () => {
    const ns = namespace();
    const stack = await localStack();
    const servedBefore = stack.artifactHost!.served();
    for (const file of [
      'basic-session-deployment-and-job.yaml',
      'basic-session-deployment-only.yaml',
      'basic-session-job-only.yaml',
    ]) {
      const result = await kubectl(['apply', '-n', ns, '-f', join(upstreamExamplesDir, file)]);
      expect(result.code, result.stderr).to.equal(0);
    }
    const jobs = [
      ['basic-session-deployment-example', 'basic-session-job-example'],
      ['basic-session-deployment-example', 'basic-session-job-example2'],
      ['basic-session-deployment-only-example', 'basic-session-job-only-example'],
    ] as const;
    const stable = new Map<string, SessionJob>();
    for (const [, job] of jobs) stable.set(job, await waitForSessionJob(ns, job, 'STABLE', 300_000));
    for (const session of ['basic-session-deployment-example', 'basic-session-deployment-only-example']) {
      const ids = jobs
        .filter(([s]) => s === session)
        .map(([, job]) => stable.get(job)!.status!.jobStatus!.jobId!)
        .sort();
      expect(await runningIds(ns, session), `the jobs running in ${session} are those the statuses name`).to.deep.equal(
        ids,
      );
    }
    const table = (await kubectl(['get', 'sessionjob', '-n', ns])).stdout;
    for (const [session, job] of jobs) expect(table).to.match(new RegExp(`${job}\\s+RUNNING\\s+STABLE\\s+${session}`));
    // Two distinct jar URIs, each downloaded once through the proxy (the third job reuses the first jar).
    expect(stack.artifactHost!.served() - servedBefore).to.equal(2);
  });

  it('a savepoint upgrade of one session job restores the new job from a real savepoint and leaves the other job untouched', async () => {
    const ns = namespace();
    const [orders, payments] = await twoJobsRunning(ns);
    const url = (await restUrl(ns, 'session'))!;
    const paymentsStart = (
      (await (await fetch(`${url}/jobs/${payments.status!.jobStatus!.jobId}`)).json()) as { 'start-time': number }
    )['start-time'];
    // Let a checkpoint or two complete, so the savepoint has state to carry.
    await new Promise((r) => setTimeout(r, 4000));

    await patchSpec(ns, 'orders', { job: { parallelism: 3 } }, 'flinksessionjob');
    const upgraded = await eventually(
      'orders to run its new spec',
      async () => {
        const j = await getSessionJob(ns, 'orders');
        const s = j?.status;
        return s?.lifecycleState === 'STABLE' &&
          s.observedGeneration === j!.metadata.generation &&
          s.jobStatus?.jobId !== orders.status!.jobStatus!.jobId
          ? j
          : undefined;
      },
      180_000,
    );
    const savepoint = upgraded.status!.jobStatus!.upgradeSavepointPath!;
    expect(savepoint, 'the savepoint the upgrade took').to.match(/savepoint/);
    expect(existsSync(join(snapshotDir(savepoint), '_metadata')), `${savepoint} on disk`).to.equal(true);
    const newId = upgraded.status!.jobStatus!.jobId!;
    expect(await eventually('Flink to report the restore', () => restoredFrom(url, newId), 60_000)).to.equal(savepoint);
    const details = (await (await fetch(`${url}/jobs/${newId}`)).json()) as { vertices: { parallelism: number }[] };
    expect(Math.max(...details.vertices.map((v) => v.parallelism))).to.equal(3);

    const after = await getSessionJob(ns, 'payments');
    expect(after!.status!.jobStatus!.jobId, 'the other job keeps its id').to.equal(payments.status!.jobStatus!.jobId);
    const start = (await (await fetch(`${url}/jobs/${payments.status!.jobStatus!.jobId}`)).json()) as {
      'start-time': number;
      state: string;
    };
    expect(start).to.include({ 'start-time': paymentsStart, state: 'RUNNING' });
    expect(await runningIds(ns, 'session')).to.deep.equal([newId, payments.status!.jobStatus!.jobId!].sort());
  });

  it('suspends and resumes a session job from its savepoint; deleting one cancels only its own Flink job', async () => {
    const ns = namespace();
    const [orders, payments] = await twoJobsRunning(ns);
    await new Promise((r) => setTimeout(r, 3000));

    await patchSpec(ns, 'orders', { job: { state: 'suspended' } }, 'flinksessionjob');
    const suspended = await waitForSessionJob(ns, 'orders', 'SUSPENDED');
    expect(await runningIds(ns, 'session'), 'only the other job runs while suspended').to.deep.equal([
      payments.status!.jobStatus!.jobId,
    ]);
    const savepoint = suspended.status!.jobStatus!.upgradeSavepointPath!;
    expect(existsSync(join(snapshotDir(savepoint), '_metadata'))).to.equal(true);

    await patchSpec(ns, 'orders', { job: { state: 'running' } }, 'flinksessionjob');
    const resumed = await eventually(
      'orders to run again',
      async () => {
        const j = await getSessionJob(ns, 'orders');
        return j?.status?.lifecycleState === 'STABLE' && j.status.jobStatus?.jobId !== orders.status!.jobStatus!.jobId
          ? j
          : undefined;
      },
      180_000,
    );
    const url = (await restUrl(ns, 'session'))!;
    expect(
      await eventually('the restore', () => restoredFrom(url, resumed.status!.jobStatus!.jobId!), 60_000),
    ).to.equal(savepoint);

    const deletion = await kubectl(['delete', 'flinksessionjob', 'orders', '-n', ns, '--wait=true', '--timeout=120s']);
    expect(deletion.code, deletion.stderr).to.equal(0);
    const states = await sessionJobs(ns, 'session');
    expect(
      states.find((j) => j.jid === resumed.status!.jobStatus!.jobId)?.state,
      'the deleted job is cancelled',
    ).to.equal('CANCELED');
    expect(await runningIds(ns, 'session'), 'the other job still runs').to.deep.equal([
      payments.status!.jobStatus!.jobId,
    ]);
  });

  it('blocks deleting a session cluster while session jobs name it (CleanupFailed), and lets it go with its Flink after they are deleted', async () => {
    const ns = namespace();
    await apply(ns, statefulSession());
    await apply(ns, sessionJob('orders', 'session', { upgradeMode: 'stateless' }));
    await waitForSessionJob(ns, 'orders', 'STABLE');
    const deletion = await kubectl(['delete', 'flinkdeployment', 'session', '-n', ns, '--wait=false']);
    expect(deletion.code, deletion.stderr).to.equal(0);
    await eventRecorded(ns, 'session', 'CleanupFailed');
    const blocked = (await events(ns, 'session')).find((e) => e.reason === 'CleanupFailed')!;
    expect(blocked).to.include({ type: 'Warning', message: 'The session jobs [orders] should be deleted first' });
    expect((await getResource<Deployment>('flinkdeployment', ns, 'session'))?.status?.lifecycleState).to.equal(
      'DELETING',
    );
    expect(await runningIds(ns, 'session'), 'the job keeps running meanwhile').to.have.length(1);

    const jobDeletion = await kubectl([
      'delete',
      'flinksessionjob',
      'orders',
      '-n',
      ns,
      '--wait=true',
      '--timeout=120s',
    ]);
    expect(jobDeletion.code, jobDeletion.stderr).to.equal(0);
    await eventually(
      'the session cluster to be gone',
      async () => (await getResource('flinkdeployment', ns, 'session')) === undefined,
      120_000,
    );
    await eventually('its Flink to be stopped', async () => (await restUrl(ns, 'session')) === undefined, 60_000);
  });

  it('a session cluster upgrade with two running jobs brings both back from their snapshots, exactly one Flink job each', async () => {
    const ns = namespace();
    const before = await twoJobsRunning(ns, { upgradeMode: 'last-state' });
    await new Promise((r) => setTimeout(r, 5000)); // a checkpoint for last-state

    await patchSpec(ns, 'session', { flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '3' } });
    const after = await eventually(
      'both jobs to run again on the new session',
      async () => {
        const jobs = await Promise.all(['orders', 'payments'].map((n) => getSessionJob(ns, n)));
        const moved = jobs.every(
          (j, i) =>
            j?.status?.lifecycleState === 'STABLE' && j.status.jobStatus?.jobId !== before[i]!.status!.jobStatus!.jobId,
        );
        return moved ? (jobs as SessionJob[]) : undefined;
      },
      300_000,
    );
    expect((await getResource<Deployment>('flinkdeployment', ns, 'session'))?.status?.lifecycleState).to.equal(
      'STABLE',
    );
    const url = (await restUrl(ns, 'session'))!;
    const ids = after.map((j) => j.status!.jobStatus!.jobId!);
    expect(await runningIds(ns, 'session'), 'exactly one Flink job per session job').to.deep.equal([...ids].sort());
    for (const job of after) {
      const path = job.status!.jobStatus!.upgradeSavepointPath!;
      expect(path, `${job.metadata.name} restored from a snapshot`).to.be.a('string');
      expect(
        await eventually(
          `${job.metadata.name}'s restore`,
          () => restoredFrom(url, job.status!.jobStatus!.jobId!),
          60_000,
        ),
      ).to.equal(path);
    }
  });

  it('bad jars — 404, a 5xx that recovers, not a zip, over the size cap, a redirect loop, redirects to loopback and to a disallowed scheme, a proxy that refuses: each a status.error and a Warning event naming the URI, retried; nothing else disturbed', async () => {
    const ns = namespace();
    const stack = await localStack();
    const good = sessionJob('x').spec!.job!.jarURI!;
    const host = `faults-${ns}.example.com`;
    let flaky = 2;
    await stack.artifactHost!.addHost(host, (req, res) => {
      const answers: Record<string, () => void> = {
        '/missing.jar': () => res.writeHead(404).end('no such jar'),
        '/flaky.jar': () =>
          flaky-- > 0 ? res.writeHead(503).end('busy') : res.writeHead(302, { location: good }).end(),
        '/page.jar': () => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>'),
        '/huge.jar': () => res.writeHead(200, { 'content-length': 2 ** 30 }).end(),
        '/loop.jar': () => res.writeHead(302, { location: '/loop.jar' }).end(),
        '/loopback.jar': () => res.writeHead(302, { location: 'https://127.0.0.1/job.jar' }).end(),
        '/to-localhost.jar': () => res.writeHead(302, { location: 'https://localhost/job.jar' }).end(),
        '/to-http.jar': () => res.writeHead(302, { location: 'http://artifacts.example.com/maven2/job.jar' }).end(),
      };
      (answers[req.url ?? ''] ?? (() => res.writeHead(404).end()))();
    });
    await apply(ns, statefulSession());
    await apply(ns, sessionJob('payments', 'session', { upgradeMode: 'stateless' }));
    await waitForSessionJob(ns, 'payments', 'STABLE');

    const cases: [string, string, RegExp][] = [
      ['missing', `https://${host}/missing.jar`, /: HTTP 404$/],
      ['page', `https://${host}/page.jar`, /: it is not a jar \(no zip header; it starts with "<htm"\)$/],
      ['huge', `https://${host}/huge.jar`, /: 1073741824 bytes is over the 536870912-byte limit/],
      ['loop', `https://${host}/loop.jar`, /: more than 5 redirects$/],
      ['loopback', `https://${host}/loopback.jar`, /: host 127\.0\.0\.1 is a restricted address$/],
      [
        'localhost',
        `https://${host}/to-localhost.jar`,
        /: host localhost resolves to a restricted address \(127\.0\.0\.1(, ::1)?\)$/,
      ],
      [
        'plain-http',
        `https://${host}/to-http.jar`,
        /: scheme "http" is not allowed \(kubernetes\.operator\.user\.artifacts\.allowed-schemes: https\)$/,
      ],
      ['refused', 'https://elsewhere.example.com/job.jar', /: the proxy refused to connect to it \(HTTP 403\)$/],
    ];
    await expectFetchFailures(ns, cases);
    await apply(ns, sessionJob('flaky', 'session', { jarURI: `https://${host}/flaky.jar`, upgradeMode: 'stateless' }));
    await eventually('the 5xx recovered: flaky runs', () => waitForSessionJob(ns, 'flaky', 'STABLE', 60_000), 90_000);
    await eventually(
      'retries with backoff',
      async () => ((await events(ns, 'missing')).find((e) => e.type === 'Warning')?.count ?? 0) >= 2,
      60_000,
    );
    const ids = await runningIds(ns, 'session');
    expect(ids, 'the good jobs run, nothing else').to.have.length(2);
    expect(stack.operator()!.running(), 'the operator never crashed').to.equal(true);

    await patchSpec(ns, 'missing', { job: { jarURI: good } }, 'flinksessionjob');
    const fixed = await waitForSessionJob(ns, 'missing', 'STABLE');
    expect(fixed.status?.error).to.equal(undefined);
    expect(await runningIds(ns, 'session')).to.have.length(3);
  });
});

describe('FlinkSessionJobs: an operator killed mid-submission', function () {
  const namespace = useStackNamespace(this);
  this.timeout(400_000);

  afterEach(async () => {
    const stack = await localStack();
    await stack.stopOperator('proxied', 'SIGKILL');
    if (!stack.operator()?.running()) await stack.startOperator();
  });

  /** Runs `name` under an operator whose run calls are held at `phase`, kills it there, and lets a fresh one finish. */
  async function killedWhileSubmitting(
    ns: string,
    name: string,
    phase: 'before-flink' | 'after-flink',
  ): Promise<SessionJob> {
    const stack = await localStack();
    const proxy = await startFlinkProxy(
      stack.flinkRestOverridesFile,
      join(await scratchDir(`session-${phase}`), 'overrides.json'),
    );
    try {
      await runAlone('proxied', { flinkRestOverrides: proxy.overridesFile });
      proxy.hold(/^\/jars\/[^/]+\/run$/, phase);
      await apply(ns, sessionJob(name, 'session', { upgradeMode: 'stateless' }));
      await eventually('the run call to be held', async () => proxy.heldCalls() > 0, 120_000);
      if (phase === 'after-flink')
        await eventually(
          'Flink to run the job the operator never heard back about',
          async () => (await runningIds(ns, 'session')).length > 0 || undefined,
          60_000,
        );
      await stack.stopOperator('proxied', 'SIGKILL');
    } finally {
      proxy.hold(undefined);
      await proxy.close();
    }
    await stack.startOperator();
    return waitForSessionJob(ns, name, 'STABLE');
  }

  it('killed between upload and run, or between run and the status write: after a restart exactly one Flink job per session job', async () => {
    const ns = namespace();
    await apply(ns, statefulSession());
    await waitForLifecycle(ns, 'session', 'STABLE');

    const orders = await killedWhileSubmitting(ns, 'orders', 'before-flink');
    expect(
      await runningIds(ns, 'session'),
      'the job the killed operator never ran: run once, by the next',
    ).to.deep.equal([orders.status!.jobStatus!.jobId]);

    const payments = await killedWhileSubmitting(ns, 'payments', 'after-flink');
    const ids = [orders, payments].map((j) => j.status!.jobStatus!.jobId!).sort();
    expect(
      await runningIds(ns, 'session'),
      'the job Flink ran for the killed operator is found by its id, not run again',
    ).to.deep.equal(ids);
    const all = await sessionJobs(ns, 'session');
    expect(all.map((j) => j.jid).sort(), 'no other job was ever submitted').to.deep.equal(ids);
  });
});
