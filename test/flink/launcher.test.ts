// The runner's JVM is real Flink from Maven Central: its REST API reports the version we pinned and the slots we asked for.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFlinkCluster, type FlinkCluster } from '../../local/flink/cluster.js';
import { ExitedDuringStartup } from '../../local/control-plane/process.js';
import { ensureFlinkRunner, FLINK_LINES, pinnedFlinkVersion } from '../../local/flink/runner-build.js';
import { repoRoot } from '../support/paths.js';

const projectDir = join(repoRoot, 'local/flink-runner');

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).to.equal(200);
  return (await res.json()) as T;
}

describe('the Flink runner JVM (real Flink from Maven Central)', function () {
  this.timeout(600_000); // the first run fetches Flink's jars
  let cluster: FlinkCluster;
  let dir: string;

  before(async () => {
    const build = await ensureFlinkRunner(projectDir, (line) => process.stderr.write(`      [flink] ${line}\n`));
    dir = mkdtempSync(join(tmpdir(), 'flink-runner-test-'));
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'config.yaml'), 'rest.port: 0\ntaskmanager.numberOfTaskSlots: 3\n');
    cluster = await startFlinkCluster(build, {
      name: 'flink-test',
      confDir: join(dir, 'conf'),
      logFile: join(dir, 'flink.log'),
    });
  });
  after(async () => cluster?.process.stop());

  it('reports the pinned Flink version through GET /config', async () => {
    const config = await getJson<{ 'flink-version': string; features: { 'web-submit': boolean } }>(
      `${cluster.restUrl}/config`,
    );
    expect(config['flink-version']).to.equal(pinnedFlinkVersion(projectDir));
    expect(config.features['web-submit'], 'jar upload and run are on').to.equal(true);
  });

  it('offers the task slots of the configuration', async () => {
    const { taskmanagers } = await getJson<{ taskmanagers: { slotsNumber: number; freeSlots: number }[] }>(
      `${cluster.restUrl}/taskmanagers`,
    );
    expect(taskmanagers.map((t) => t.slotsNumber)).to.deep.equal([3]);
  });

  it('stops on SIGTERM within 10 s and frees its REST port', async () => {
    const started = Date.now();
    await cluster.process.stop(10_000);
    expect(Date.now() - started).to.be.below(10_000);
    expect(cluster.process.running()).to.equal(false);
    const refused = await fetch(`${cluster.restUrl}/config`).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
    expect(readFileSync(join(dir, 'flink.log'), 'utf8')).to.not.match(/Exception in thread "main"/);
  });

  it('does not outlive a parent killed with SIGKILL', async () => {
    const script = `
      const { startFlinkCluster } = await import(${JSON.stringify(join(repoRoot, 'dist/local/flink/cluster.js'))});
      const { ensureFlinkRunner } = await import(${JSON.stringify(join(repoRoot, 'dist/local/flink/runner-build.js'))});
      const build = await ensureFlinkRunner(${JSON.stringify(projectDir)}, () => {});
      const cluster = await startFlinkCluster(build, { name: 'orphan-check', confDir: ${JSON.stringify(join(dir, 'conf'))}, logFile: ${JSON.stringify(join(dir, 'orphan.log'))} });
      console.log(cluster.process.pid);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const javaPid = await new Promise<number>((resolve) =>
      parent.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))),
    );
    expect(existsSync(`/proc/${javaPid}`)).to.equal(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (existsSync(`/proc/${javaPid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(`/proc/${javaPid}`), 'the Flink JVM exited with its parent').to.equal(false);
  });
});

// The image's entrypoint sizes the processes with Flink's own utilities before the JVM starts; so does the runner,
// on each line (1.x and 2.x name that utility differently).
for (const line of FLINK_LINES.filter((l) => l.flink.startsWith('1.') || l.flink === FLINK_LINES.at(-1)!.flink)) {
  describe(`the Flink ${line.flink} runner refuses, as a real container does, a process Flink cannot size`, function () {
    this.timeout(600_000);
    const cases: [string, string, RegExp][] = [
      [
        'a JobManager of 300m',
        'jobmanager.memory.process.size: 300m',
        /JobManager memory: .*exceed.*configured Total Process Memory \(300\.000mb \(314572800 bytes\)\)/s,
      ],
      [
        'a TaskManager of 100m',
        'jobmanager.memory.process.size: 1600m\ntaskmanager.memory.process.size: 100m',
        /TaskManager memory: .*exceed.*configured Total Process Memory \(100\.000mb \(104857600 bytes\)\)/s,
      ],
    ];
    for (const [what, config, reason] of cases) {
      it(what, async () => {
        const build = await ensureFlinkRunner(projectDir, () => undefined, line);
        const dir = mkdtempSync(join(tmpdir(), 'flink-runner-memory-'));
        mkdirSync(join(dir, 'conf'));
        writeFileSync(join(dir, 'conf', 'config.yaml'), `rest.port: 0\n${config}\n`);
        const failure = await startFlinkCluster(build, {
          name: 'memory-check',
          confDir: join(dir, 'conf'),
          logFile: join(dir, 'flink.log'),
        }).then(
          async (cluster) => {
            await cluster.process.stop();
            return undefined;
          },
          (err: unknown) => err,
        );
        expect(failure, 'the JVM exits during start-up').to.be.instanceOf(ExitedDuringStartup);
        expect(readFileSync(join(dir, 'flink.log'), 'utf8')).to.match(reason);
      });
    }
  });
}
