// The Flink REST contract the reconciler depends on, asserted the same way against real Flink and against the
// scale benchmark's stand-in (SPEC §9): what the operator's own FlinkRestClient reads from each must agree.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../local/control-plane/process.js';
import { startFlinkCluster, type FlinkCluster } from '../../local/flink/cluster.js';
import { ensureFlinkRunner, pinnedFlinkVersion } from '../../local/flink/runner-build.js';
import { FlinkRestStandIn } from '../../local/flink/stand-in.js';
import { FlinkRestClient } from '../../operator/flink-rest.js';
import { repoRoot } from '../support/paths.js';
import { eventually } from '../support/stack.js';

const FIRST = '0123456789abcdef0123456789abcdef';
const SECOND = 'fedcba9876543210fedcba9876543210';
const projectDir = join(repoRoot, 'local/flink-runner');

/** Starts a cluster configured as the operator configures one; its REST base URL. */
type Start = (name: string, config: Record<string, string>) => Promise<string>;

interface Implementation {
  name: string;
  setUp(dir: string): Promise<Start>;
  tearDown(): Promise<void>;
}

const real = (): Implementation => {
  const clusters: FlinkCluster[] = [];
  return {
    name: 'real Flink',
    async setUp(dir) {
      const build = await ensureFlinkRunner(projectDir, (line) => process.stderr.write(`      [flink] ${line}\n`));
      return async (name, config) => {
        const conf = join(dir, name, 'conf');
        mkdirSync(conf, { recursive: true });
        const full = {
          'rest.port': String(await freePort()),
          'jobmanager.rpc.address': '127.0.0.1',
          'jobmanager.rpc.port': String(await freePort()),
          'taskmanager.host': '127.0.0.1',
          'taskmanager.numberOfTaskSlots': '2',
          'execution.shutdown-on-application-finish': 'false',
          ...config,
          'pipeline.jars': `file://${build.examplesJar}`,
          '$internal.application.main': 'dev.flinkoperatorts.examples.CountingJob',
          '$internal.application.program-args': '--events-per-second;20',
        };
        writeFileSync(
          join(conf, 'config.yaml'),
          Object.entries(full)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n') + '\n',
        );
        const cluster = await startFlinkCluster(build, {
          name: `contract ${name}`,
          confDir: conf,
          logFile: join(dir, name, 'flink.log'),
        });
        clusters.push(cluster);
        return cluster.restUrl;
      };
    },
    async tearDown() {
      for (const c of clusters.splice(0)) await c.process.stop();
    },
  };
};

const standIn = (): Implementation => {
  let server: FlinkRestStandIn;
  return {
    name: 'the stand-in',
    async setUp(dir) {
      server = new FlinkRestStandIn({ filesRoot: dir, flinkVersion: pinnedFlinkVersion(projectDir), jobStartMs: 500 });
      await server.start();
      return async (name, config) =>
        server.register(`contract/${name}`, {
          'pipeline.jars': 'local:///opt/flink/examples/streaming/StateMachineExample.jar',
          ...config,
        });
    },
    async tearDown() {
      await server.stop();
    },
  };
};

for (const implementation of [real(), standIn()]) {
  describe(`Flink REST contract of the reconciler: ${implementation.name}`, function () {
    this.timeout(300_000);
    let start: Start;
    let dir: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'flink-contract-'));
      start = await implementation.setUp(dir);
    });
    after(() => implementation.tearDown());

    it('runs the pinned job, stops it with a savepoint, restores a new job from it, and cancels', async () => {
      const savepoints = join(dir, 'savepoints');
      const common = {
        'parallelism.default': '2',
        'execution.checkpointing.dir': `file://${join(dir, 'checkpoints')}`,
        'execution.checkpointing.savepoint-dir': `file://${savepoints}`,
      };
      const flink = new FlinkRestClient(
        await start('first', { ...common, '$internal.pipeline.job-id': FIRST }),
        10_000,
      );

      expect((await flink.config()).flinkVersion).to.equal(pinnedFlinkVersion(projectDir));
      const job = await eventually(
        'the pinned job to run',
        async () => (await flink.jobs()).find((j) => j.id === FIRST && j.state === 'RUNNING'),
        120_000,
      );
      expect(job.startTime).to.be.greaterThan(0);
      expect(job.name).to.be.a('string').and.not.equal('');

      // The first moments of a job may refuse a savepoint; the operator retries, and so does this.
      const location = await eventually(
        'a savepoint',
        () => flink.stopWithSavepoint(FIRST, false, Date.now() + 60_000),
        60_000,
      );
      expect(location).to.match(/^file:.*savepoint-/);
      expect(existsSync(join(location.replace(/^file:/, ''), '_metadata')), 'the savepoint is on disk').to.equal(true);
      await eventually(
        'the job to be FINISHED',
        async () => (await flink.jobs()).some((j) => j.id === FIRST && j.state === 'FINISHED'),
        30_000,
      );

      const restored = new FlinkRestClient(
        await start('second', { ...common, '$internal.pipeline.job-id': SECOND, 'execution.savepoint.path': location }),
        10_000,
      );
      await eventually(
        'the restored job to run',
        async () => (await restored.jobs()).some((j) => j.id === SECOND && j.state === 'RUNNING'),
        120_000,
      );
      expect(await restored.latestCheckpoint(SECOND), 'the restore is reported as the latest state').to.equal(location);

      await restored.cancel(SECOND, Date.now() + 30_000);
      expect((await restored.jobs()).find((j) => j.id === SECOND)?.state).to.equal('CANCELED');
      await restored.cancel(SECOND, Date.now() + 5_000); // cancelling a terminal job is done, not an error
    });

    it('answers an unknown job with 404', async () => {
      const url = await start('lonely', { '$internal.pipeline.job-id': FIRST });
      const response = await fetch(`${url}/jobs/${'9'.repeat(32)}/checkpoints`);
      expect(response.status).to.equal(404);
      expect(((await response.json()) as { errors: string[] }).errors).to.be.an('array');
    });
  });
}
