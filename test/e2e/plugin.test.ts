// `kubectl flink` end to end: the stack's real kubectl finds the bundled kubectl-flink on PATH and runs it against
// the real API server, with the reconciler and real Flink running. Every command and output format, kubectl's
// flags and KUBECONFIG, the everyday flows a user runs, and the failures a user meets — each one line, exit 1.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../../local/stack.js';
import { quickStart, shellLine } from '../../local/quick-start.js';
import { ensureKrew } from '../../local/krew.js';
import { releasePlugin } from '../../local/plugin-release.js';
import { eventually, kubectl, localStack, scratchDir, useStackNamespace } from '../support/stack.js';
import {
  apply,
  getDeployment,
  snapshotDir,
  statefulDeployment,
  upstreamDeployment,
  waitForLifecycle,
  waitForUpgraded,
} from '../support/flink-deployments.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The folder npm start tells a user to put on PATH (kubectl and the plugin), and a HOME for kubectl's cache. */
let binDir = '';
let home = '';

/** `kubectl flink …` with the stack's kubectl and the plugin on PATH; the admin kubeconfig unless `env` says else. */
async function flink(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Run> {
  const stack = await localStack();
  return run(
    stack.binaries.kubectl,
    ['flink', ...args],
    { PATH: `${binDir}:${process.env.PATH}`, HOME: home, KUBECONFIG: stack.kubeconfig, ...env },
    timeoutMs,
  );
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** One line on stderr, `error: …`, exit 1, no stack trace. */
function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code, run.stderr).to.equal(1);
  expect(run.stderr.trim().split('\n'), run.stderr).to.have.length(1);
  expect(run.stderr)
    .to.match(/^error: /)
    .and.match(pattern)
    .and.not.match(/\n\s+at /);
}

describe('kubectl flink (the plugin, through the real kubectl)', function () {
  const namespace = useStackNamespace(this);
  this.timeout(420_000);

  before(async () => {
    const bundle = join(repoRoot, 'dist/kubectl-flink.mjs');
    expect(existsSync(bundle), `${bundle} (npm run build makes it)`).to.equal(true);
    binDir = (await localStack()).userBinDir();
    home = await scratchDir('plugin-home');
  });

  it('list, status, suspend, resume, restart and savepoint on a running job, in every output format; status --watch settles on SUSPENDED (job FINISHED) and on STABLE', async () => {
    const ns = namespace();
    await apply(ns, statefulDeployment('savepoint', 'orders'));
    await waitForLifecycle(ns, 'orders', 'STABLE');

    const table = await flink(['list', '-n', ns]);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout.split('\n')[0]).to.match(/^NAME\s+KIND\s+MODE\s+FLINK\s+JOB\s+LIFECYCLE\s+AGE$/);
    expect(table.stdout).to.match(/^orders\s+FlinkDeployment\s+native\/application\s+v2_2\s+RUNNING\s+STABLE\s+\S+$/m);
    expect((await flink(['ls', '-A'])).stdout).to.match(new RegExp(`^${ns}\\s+orders\\s+FlinkDeployment`, 'm'));
    expect((await flink(['list', '-n', ns, '-o', 'wide'])).stdout.split('\n')[0])
      .to.contain('JOB ID')
      .and.contain('RECONCILIATION');
    expect((await flink(['list', '-n', ns, '-o', 'name'])).stdout.trim()).to.equal(
      'flinkdeployment.flink.apache.org/orders',
    );
    const listed = JSON.parse((await flink(['list', '-n', ns, '-o', 'json'])).stdout) as {
      kind: string;
      items: { kind: string; metadata: { name: string } }[];
    };
    expect([listed.kind, listed.items.map((i) => `${i.kind}/${i.metadata.name}`)]).to.deep.equal([
      'List',
      ['FlinkDeployment/orders'],
    ]);
    expect(parse((await flink(['list', '-n', ns, '-o', 'yaml'])).stdout)).to.deep.equal(listed);
    expect((await flink(['status', 'orders', '-n', ns, '-o', 'name'])).stdout.trim()).to.equal(
      'flinkdeployment.flink.apache.org/orders',
    );

    const screen = await flink(['status', 'orders', '-n', ns]);
    expect(screen.code, screen.stderr).to.equal(0);
    for (const label of [
      'Lifecycle:       STABLE',
      'Job:             RUNNING',
      'JobManager:      READY',
      'Reconciliation:  DEPLOYED',
      'Last savepoint:',
      'Flink UI:',
      'Events:',
    ])
      expect(screen.stdout).to.contain(label);
    const json = JSON.parse((await flink(['status', 'deployment/orders', '-n', ns, '-o', 'json'])).stdout) as {
      metadata: { name: string };
      spec: unknown;
    };
    expect(json.metadata.name).to.equal('orders');
    const yaml = parse((await flink(['status', 'orders', '-n', ns, '-o', 'yaml'])).stdout) as typeof json;
    expect(yaml).to.deep.equal(json);
    expect(parse(stringify(yaml))).to.deep.equal(json);

    const suspended = await flink(['suspend', 'orders', '-n', ns]);
    expect(suspended.stdout.trim()).to.equal('flinkdeployment.flink.apache.org/orders suspended');
    // What a user does next: watch it settle. It ends on SUSPENDED with the cluster gone, and the job is over.
    const settled = await flink(['status', 'orders', '-n', ns, '--watch'], {}, 180_000);
    expect(settled.code, settled.stdout + settled.stderr).to.equal(0);
    expect(settled.stdout.trim().split('\n').at(-1)).to.match(/SUSPENDED\s+FINISHED$/);
    expect((await flink(['status', 'orders', '-n', ns])).stdout)
      .to.contain('Lifecycle:       SUSPENDED')
      .and.match(/^Job:\s+FINISHED\b/m)
      .and.contain('JobManager:      MISSING');
    expect((await flink(['list', '-n', ns])).stdout).to.match(
      /^orders\s+FlinkDeployment\s+native\/application\s+v2_2\s+FINISHED\s+SUSPENDED\s+\S+$/m,
    );
    expect((await kubectl(['get', 'flinkdeployments', '-n', ns])).stdout).to.match(/^orders\s+FINISHED\s+SUSPENDED\b/m);
    expect((await flink(['resume', 'orders', '-n', ns])).stdout.trim()).to.equal(
      'flinkdeployment.flink.apache.org/orders resumed',
    );
    const watched = await flink(['status', 'orders', '-n', ns, '--watch'], {}, 180_000);
    expect(watched.code, watched.stdout + watched.stderr).to.equal(0);
    expect(watched.stdout.trim().split('\n').at(-1)).to.match(/STABLE\s+RUNNING$/);

    const savepoint = await flink(['savepoint', 'orders', '-n', ns, '--wait']);
    expect(savepoint.code, savepoint.stderr).to.equal(0);
    const [created, path] = savepoint.stdout.trim().split('\n');
    expect(created).to.match(/^flinkstatesnapshot\.flink\.apache\.org\/orders-savepoint-manual-\d+ created$/);
    expect(existsSync(join(snapshotDir(path!), '_metadata')), `${path} on disk`).to.equal(true);
    expect((await flink(['status', 'orders', '-n', ns])).stdout).to.match(/Last savepoint:\s+\S*savepoint-/);

    const before = (await getDeployment(ns, 'orders'))?.status?.jobStatus?.jobId;
    expect((await flink(['restart', 'orders', '-n', ns])).stdout.trim()).to.equal(
      'flinkdeployment.flink.apache.org/orders restarted',
    );
    await waitForUpgraded(ns, 'orders', before);
  });

  it('rollback after a bad upgrade: shows the difference, writes the last stable spec back, the job runs it again; status --watch exits 1 on FAILED', async () => {
    const ns = namespace();
    await apply(
      ns,
      upstreamDeployment('basic.yaml', (d) => {
        d.metadata.name = 'orders';
        d.spec!.flinkConfiguration = {
          ...d.spec!.flinkConfiguration,
          'kubernetes.operator.observer.progress-check.interval': '1 s',
        };
      }),
    );
    await waitForLifecycle(ns, 'orders', 'STABLE');
    expectOneLineError(
      await flink(['rollback', 'orders', '-n', ns, '--yes']),
      /already runs its last stable spec: nothing to roll back/,
    );

    expect((await flink(['status', 'orders', '-n', ns])).code).to.equal(0);
    const patch = await (
      await localStack()
    ).kubectl([
      'patch',
      'flinkdeployment',
      'orders',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { job: { args: ['--fail-in-main'] } } }),
    ]);
    expect(patch).to.contain('patched');
    const failed = await flink(['status', 'orders', '-n', ns, '--watch'], {}, 180_000);
    expect(failed.code, failed.stdout).to.equal(1);
    expect(failed.stdout.trim().split('\n').at(-1)).to.match(/FAILED/);
    expect((await flink(['status', 'orders', '-n', ns])).code, 'status exits 1 on FAILED').to.equal(1);

    const noTerminal = await flink(['rollback', 'orders', '-n', ns]);
    expect(noTerminal.code).to.equal(2);
    expect(noTerminal.stderr).to.contain('add --yes');
    const rolled = await flink(['rollback', 'orders', '-n', ns, '--yes']);
    expect(rolled.code, rolled.stderr).to.equal(0);
    expect(rolled.stdout)
      .to.contain('spec.job.args: ["--fail-in-main"] → []')
      .and.contain('flinkdeployment.flink.apache.org/orders rolled back');
    const back = await waitForLifecycle(ns, 'orders', 'STABLE');
    expect(back.spec?.job?.args).to.deep.equal([]);
    expect(back.status?.jobStatus?.state).to.equal('RUNNING');
  });

  it('what goes wrong: unknown names (with a suggestion), the wrong namespace, no cluster, a read-only user, a failing exec plugin — one line each, exit 1; usage errors exit 2', async () => {
    const ns = namespace();
    const stack = await localStack();
    await apply(
      ns,
      upstreamDeployment('basic.yaml', (d) => (d.metadata.name = 'orders')),
    );
    await eventually(
      'orders listed',
      async () => (await flink(['list', '-n', ns])).stdout.includes('orders') || undefined,
    );
    expectOneLineError(
      await flink(['status', 'ordrs', '-n', ns]),
      new RegExp(`no FlinkDeployment or FlinkSessionJob "ordrs" in namespace "${ns}"; did you mean "orders"\\?`),
    );
    expectOneLineError(
      await flink(['status', 'orders', '-n', 'default']),
      /no FlinkDeployment or FlinkSessionJob "orders" in namespace "default"/,
    );
    expectOneLineError(await flink(['status', 'sessionjob/orders', '-n', ns]), /no FlinkSessionJob "orders"/);

    const dir = await scratchDir('plugin-kubeconfigs');
    const admin = parse(readFileSync(stack.kubeconfig, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
      users: { name: string; user: Record<string, unknown> }[];
      contexts: { name: string; context: Record<string, string> }[];
    };
    const write = (file: string, doc: unknown) => {
      writeFileSync(join(dir, file), stringify(doc), { mode: 0o600 });
      return join(dir, file);
    };
    const unreachable = write('unreachable.yaml', {
      ...admin,
      clusters: admin.clusters.map((c) => ({ ...c, cluster: { ...c.cluster, server: 'https://127.0.0.1:1' } })),
    });
    expectOneLineError(
      await flink(['list', '-n', ns, '--kubeconfig', unreachable]),
      /cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1/,
    );
    const exec = write('exec.yaml', {
      ...admin,
      users: admin.users.map((u) => ({
        name: u.name,
        user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'false', interactiveMode: 'Never' } },
      })),
    });
    expectOneLineError(
      await flink(['list', '-n', ns, '--kubeconfig', exec]),
      /kubeconfig user "admin": its exec plugin "false" failed/,
    );

    // A viewer: get, list and watch on Flink resources, nothing else.
    const viewer = { name: 'flink-viewer', user: 'flink-viewer', groups: [] as string[] };
    await stack.apply([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'flink-viewer', namespace: ns },
        rules: [
          {
            apiGroups: ['flink.apache.org'],
            resources: ['flinkdeployments', 'flinksessionjobs', 'flinkstatesnapshots'],
            verbs: ['get', 'list', 'watch'],
          },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'flink-viewer', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'flink-viewer' },
        subjects: [{ kind: 'User', name: 'flink-viewer' }],
      },
    ]);
    const readOnly = { KUBECONFIG: stack.controlPlane.kubeconfig(viewer) };
    expect((await flink(['list', '-n', ns], readOnly)).code).to.equal(0);
    expectOneLineError(
      await flink(['suspend', 'orders', '-n', ns], readOnly),
      /forbidden: .*cannot patch resource "flinkdeployments".*ask for the RBAC verb to patch flinkdeployments/,
    );

    // Several KUBECONFIG files merged, and --context choosing among their contexts (with its namespace).
    const clusterFile = write('cluster.yaml', {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: admin.clusters,
      users: admin.users,
      contexts: [],
      'current-context': '',
    });
    const contextFile = write('contexts.yaml', {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [],
      users: [],
      contexts: [
        {
          name: 'prod',
          context: {
            cluster: admin.contexts[0]!.context.cluster!,
            user: admin.contexts[0]!.context.user!,
            namespace: ns,
          },
        },
        {
          name: 'elsewhere',
          context: {
            cluster: admin.contexts[0]!.context.cluster!,
            user: admin.contexts[0]!.context.user!,
            namespace: 'default',
          },
        },
      ],
      'current-context': 'elsewhere',
    });
    const merged = { KUBECONFIG: `${contextFile}:${clusterFile}` };
    expect((await flink(['list'], merged)).stdout).to.not.contain('orders');
    expect((await flink(['list', '--context', 'prod'], merged)).stdout).to.match(/^orders\s/m);

    const usage = await flink(['status']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('error: Not enough non-option arguments');
    expect((await flink(['list', '-o', 'xml'])).code).to.equal(2);
  });

  it("npm start's shell line puts kubectl flink on PATH: pasted into a plain shell, `kubectl flink version` and `list` work", async () => {
    const stack = await localStack();
    const line = shellLine(stack);
    expect(quickStart(stack, { repoRoot, stateDir: '.local/stack', elapsed: '1s' }))
      .to.contain(`  ${line}\n`)
      .and.match(/^  kubectl flink status state-machine --watch$/m);
    // The machine's PATH without anything this test run put on it: node, bash, coreutils.
    const plainPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
      .filter(existsSync)
      .join(':');
    const shell = await run('bash', ['-c', `${line} && kubectl flink version && kubectl flink list -A -o name`], {
      PATH: plainPath,
      HOME: home,
    });
    expect(shell.code, shell.stderr).to.equal(0);
    expect(shell.stdout).to.match(/^kubectl-flink \d+\.\d+\.\d+ /);
  });

  it('version; completion bash is a script bash sources without error', async () => {
    const version = await flink(['version']);
    expect(version.stdout.trim()).to.match(/^kubectl-flink \d+\.\d+\.\d+ \(flink\.apache\.org\/v1beta1\)$/);
    expect(JSON.parse((await flink(['version', '-o', 'json'])).stdout)).to.have.property('plugin');
    const completion = await flink(['completion', 'bash']);
    expect(completion.code).to.equal(0);
    const script = join(home, 'completion.bash');
    writeFileSync(script, completion.stdout);
    const sourced = await new Promise<number>((resolve) =>
      execFile('bash', ['-c', `set -e; source ${script}; complete -p kubectl-flink`], (err) => resolve(err ? 1 : 0)),
    );
    expect(sourced).to.equal(0);
  });

  it('krew installs it from plugins/flink.yaml and the release archive (a reproducible archive; krew checks its digest); kubectl finds it', async () => {
    const first = await releasePlugin(await scratchDir('release-1'));
    const again = await releasePlugin(await scratchDir('release-2'));
    expect(again.sha256, 'the same tree, the same archive').to.equal(first.sha256);
    // The committed manifest is this release's but for the digest, which `npm run plugin:release` writes with it.
    const withoutDigest = (manifest: string) => manifest.replace(/sha256: [0-9a-f]{64}/, 'sha256: <digest>');
    expect(withoutDigest(readFileSync(join(repoRoot, 'plugins/flink.yaml'), 'utf8'))).to.equal(
      withoutDigest(first.manifest),
    );

    const krewRoot = await scratchDir('krew-root');
    const manifest = join(krewRoot, 'flink.yaml');
    const krew = async (manifestText: string) => {
      writeFileSync(manifest, manifestText);
      return run(await ensureKrew(), ['install', `--manifest=${manifest}`, `--archive=${first.archive}`], {
        PATH: process.env.PATH ?? '',
        KREW_ROOT: krewRoot,
        HOME: krewRoot,
      });
    };
    const tampered = await krew(first.manifest.replace(first.sha256, '0'.repeat(64)));
    expect(tampered.code, 'a digest that does not match is refused').to.not.equal(0);
    expect(tampered.stderr).to.match(/checksum|sha256/i);
    const installed = await krew(first.manifest);
    expect(installed.code, installed.stderr).to.equal(0);
    const version = await flink(['version'], { PATH: `${join(krewRoot, 'bin')}:${process.env.PATH}` });
    expect(version.code, version.stderr).to.equal(0);
    expect(version.stdout.trim()).to.equal(`kubectl-flink ${first.version} (flink.apache.org/v1beta1)`);
  });
});
