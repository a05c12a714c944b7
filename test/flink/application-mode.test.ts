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
});
