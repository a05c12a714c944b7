// Flink's own application mode in the runner JVM, checked on Flink's REST API and on disk — not on anything of ours.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../local/control-plane/process.js';
import { startFlinkCluster, type FlinkCluster } from '../../local/flink/cluster.js';
import { ensureFlinkRunner, type FlinkRunnerBuild } from '../../local/flink/runner-build.js';
import { repoRoot } from '../support/paths.js';
import { eventually } from '../support/stack.js';
import { autoscalerConfig } from '../../api/autoscaler/options.js';
import { readJobDetails } from '../../api/autoscaler/sample.js';
import type { Json } from '../../api/validation/access.js';
import { AutoscalerMetrics } from '../../operator/controllers/autoscaler-metrics.js';
import { FlinkRestClient } from '../../operator/flink-rest.js';

const JOB_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).to.equal(200);
  return (await res.json()) as T;
}

interface JobDetails {
  jid: string;
  name: string;
  state: string;
  vertices: { parallelism: number; status: string }[];
}

describe('the Flink runner in application mode', function () {
  this.timeout(600_000);
  let build: FlinkRunnerBuild;
  let dir: string;
  const running: FlinkCluster[] = [];

  before(async () => {
    build = await ensureFlinkRunner(join(repoRoot, 'local/flink-runner'), (line) =>
      process.stderr.write(`      [flink] ${line}\n`),
    );
    dir = mkdtempSync(join(tmpdir(), 'flink-app-test-'));
  });
  afterEach(async () => {
    for (const cluster of running.splice(0)) await cluster.process.stop();
  });

  /** A configuration as the operator writes it into flink-config-<name> (SPEC §5), with ports the runner chose. */
  async function start(name: string, settings: Record<string, string | number>): Promise<FlinkCluster> {
    const conf = join(dir, name, 'conf');
    mkdirSync(conf, { recursive: true });
    const config: Record<string, string | number> = {
      'rest.port': await freePort(),
      'jobmanager.rpc.address': '127.0.0.1',
      'jobmanager.rpc.port': await freePort(),
      'taskmanager.host': '127.0.0.1',
      'taskmanager.numberOfTaskSlots': 2,
      'parallelism.default': 2,
      'pipeline.jars': `file://${build.examplesJar}`,
      '$internal.application.main': 'dev.flinkoperatorts.examples.CountingJob',
      '$internal.application.program-args': '--events-per-second;20;--keys;4',
      '$internal.pipeline.job-id': JOB_ID,
      'execution.shutdown-on-application-finish': 'false',
      'execution.submit-failed-job-on-application-error': 'true',
      'execution.checkpointing.dir': `file://${join(dir, 'checkpoints')}`,
      'execution.checkpointing.savepoint-dir': `file://${join(dir, 'savepoints')}`,
      ...settings,
    };
    writeFileSync(
      join(conf, 'config.yaml'),
      Object.entries(config)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n') + '\n',
    );
    const cluster = await startFlinkCluster(build, { name, confDir: conf, logFile: join(dir, name, 'flink.log') });
    running.push(cluster);
    return cluster;
  }

  const job = (cluster: FlinkCluster) => getJson<JobDetails>(`${cluster.restUrl}/jobs/${JOB_ID}`);
  const runningJob = (cluster: FlinkCluster) =>
    eventually(
      'the job to run on every subtask',
      async () => {
        const details = await job(cluster);
        return details.state === 'RUNNING' && details.vertices.every((v) => v.status === 'RUNNING') && details;
      },
      90_000,
    );

  it('runs the main class with its arguments under the pinned job id, at the configured parallelism', async () => {
    const cluster = await start('pinned', { 'parallelism.default': 2 });
    const details = await runningJob(cluster);
    expect(details.jid).to.equal(JOB_ID);
    expect(details.name).to.equal('CountingJob');
    expect(details.vertices.map((v) => v.parallelism)).to.deep.equal([2, 2]);
    const { jobs } = await getJson<{ jobs: { jid: string }[] }>(`${cluster.restUrl}/jobs/overview`);
    expect(
      jobs.map((j) => j.jid),
      'exactly one job',
    ).to.deep.equal([JOB_ID]);
  });

  it('stops with a savepoint on disk, and a new cluster restores from it', async () => {
    const first = await start('stateful-1', {});
    await runningJob(first);
    const trigger = await fetch(`${first.restUrl}/jobs/${JOB_ID}/stop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ targetDirectory: `file://${join(dir, 'savepoints')}`, drain: false }),
    }).then((r) => r.json() as Promise<{ 'request-id': string }>);
    const location = await eventually('the savepoint', async () => {
      const status = await getJson<{ status: { id: string }; operation?: { location?: string } }>(
        `${first.restUrl}/jobs/${JOB_ID}/savepoints/${trigger['request-id']}`,
      );
      return status.status.id === 'COMPLETED' && status.operation?.location;
    });
    expect(existsSync(join(location.replace(/^file:/, ''), '_metadata')), 'the savepoint is on disk').to.equal(true);
    await eventually('the stopped job to finish', async () => (await job(first)).state === 'FINISHED');
    expect((await fetch(`${first.restUrl}/config`)).status, 'the JobManager stays up after the job ends').to.equal(200);
    await first.process.stop();

    const second = await start('stateful-2', { 'execution.savepoint.path': location });
    await runningJob(second);
    const checkpoints = await getJson<{ latest: { restored?: { external_path: string; is_savepoint: boolean } } }>(
      `${second.restUrl}/jobs/${JOB_ID}/checkpoints`,
    );
    expect(checkpoints.latest.restored).to.include({ external_path: location, is_savepoint: true });
  });

  it('shows a failing main as a FAILED job with its cause, and keeps the JobManager up', async () => {
    const cluster = await start('failing', { '$internal.application.program-args': '--fail-in-main' });
    // GET /jobs/overview, as the operator's observer reads it: Flink's own /jobs/:id answers 500 for a failed driver.
    const failed = await eventually('the failed application', async () => {
      const { jobs } = await getJson<{ jobs: { jid: string; name: string; state: string }[] }>(
        `${cluster.restUrl}/jobs/overview`,
      );
      return jobs.find((j) => j.state === 'FAILED');
    });
    expect(failed).to.include({ jid: JOB_ID, name: '(application driver)' });
    const exceptions = await getJson<{ exceptionHistory: { entries: { stacktrace: string }[] } }>(
      `${cluster.restUrl}/jobs/${JOB_ID}/exceptions`,
    );
    expect(exceptions.exceptionHistory.entries[0]?.stacktrace).to.include(
      'CountingJob was told to fail (--fail-in-main)',
    );
    expect((await fetch(`${cluster.restUrl}/config`)).status).to.equal(200);
  });
  it("answers the autoscaler's calls in the shapes it reads, and rescales in place with a TaskManager started for the slots", async () => {
    const loadFile = join(dir, 'load');
    writeFileSync(loadFile, '1');
    const cluster = await start('autoscaled', {
      'parallelism.default': 1,
      'taskmanager.numberOfTaskSlots': 1,
      'jobmanager.scheduler': 'adaptive',
      'jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling': '1 s',
      '$internal.application.main': 'dev.flinkoperatorts.examples.LoadJob',
      '$internal.application.program-args': `--load-file;${loadFile}`,
    });
    await runningJob(cluster);
    const flink = new FlinkRestClient(cluster.restUrl);
    const details = await flink.jobDetails(JOB_ID);
    const view = readJobDetails(details as Json)!;
    expect(
      view.topology.vertices.map((v) => [v.name, v.parallelism, v.inputs.map((i) => i.shipStrategy)]),
    ).to.deep.equal([
      ['Source: records', 1, []],
      ['load', 1, ['SHUFFLE']],
      ['Sink: Writer', 1, ['FORWARD']],
    ]);
    expect(view.runningSince).to.be.a('number');
    const config = autoscalerConfig({});
    // Flink's per-second meters need a few seconds of traffic.
    const sample = await eventually(
      'a sample with traffic',
      async () => {
        const result = await new AutoscalerMetrics().collect(
          cluster.restUrl,
          JOB_ID,
          await flink.jobDetails(JOB_ID),
          view,
          config,
          10_000,
          Date.now(),
        );
        if ('incomplete' in result) throw new Error(result.incomplete);
        const source = result.sample.vertexMetrics[view.topology.vertices[0]!.id]!;
        return (source.NUM_RECORDS_IN_PER_SECOND ?? 0) > 0 && result.sample;
      },
      30_000,
    );
    const [source, load] = view.topology.vertices.map((v) => sample.vertexMetrics[v.id]!);
    expect(source!.NUM_RECORDS_IN, 'a FLIP-27 source counts its input in Source__… metrics').to.be.greaterThan(0);
    expect(load!.LOAD, 'a load of 1 on one subtask keeps it busy').to.be.greaterThan(0.5);
    expect(load!.NUM_RECORDS_IN).to.be.greaterThan(0);
    expect(sample.globalMetrics.NUM_TASK_SLOTS_USED).to.equal(1);
    expect(sample.globalMetrics.HEAP_MAX_USAGE_RATIO).to.be.within(0, 1);

    const loadId = view.topology.vertices[1]!.id;
    const requirements = await flink.resourceRequirements(JOB_ID);
    expect(requirements[loadId]).to.deep.equal({ parallelism: { lowerBound: 1, upperBound: 1 } });
    await flink.setResourceRequirements(JOB_ID, {
      ...requirements,
      [loadId]: { parallelism: { lowerBound: 1, upperBound: 2 } },
    });
    const rescaled = await eventually(
      'the load task at parallelism 2',
      async () => {
        const now = await job(cluster);
        return (
          now.state === 'RUNNING' && now.vertices[1]!.parallelism === 2 && now.vertices[1]!.status === 'RUNNING' && now
        );
      },
      90_000,
    );
    expect(rescaled.jid, 'the same job').to.equal(JOB_ID);
    const slots = await getJson<{ 'slots-total': number; taskmanagers: number }>(`${cluster.restUrl}/overview`);
    expect(slots, 'a second TaskManager for the second slot').to.include({ 'slots-total': 2, taskmanagers: 2 });
  });
});
