// `kubectl flink status NAME` against `kubectl get flinkdeployment NAME -o yaml`: both through the real kubectl on
// the same local API server, many runs each, medians and their ratio — the plugin is run by hand many times a day.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStack, repoRoot } from '../../local/stack.js';
import { upstreamExamplesDir } from '../support/paths.js';
import { Report, until } from './report.js';

const RUNS = 30;

export async function benchPlugin(): Promise<void> {
  const report = new Report(`plugin: kubectl flink status vs kubectl get -o yaml, ${RUNS} runs each, same API server`);
  const stateDir = mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-'));
  const stack = await LocalStack.start({ stateDir, flinkStandIn: true });
  try {
    await stack.createNamespace('bench');
    const bin = join(stateDir, 'bin');
    await stack.kubectl(['apply', '-n', 'bench', '-f', join(upstreamExamplesDir, 'basic.yaml')]);
    await until(
      async () =>
        (await stack.kubectl([
          'get',
          'flinkdeployment',
          'basic-example',
          '-n',
          'bench',
          '-o',
          'jsonpath={.status.lifecycleState}',
        ])) === 'STABLE' || undefined,
      300_000,
      500,
    );
    mkdirSync(bin, { recursive: true });
    symlinkSync(join(repoRoot, 'dist/kubectl-flink.mjs'), join(bin, 'kubectl-flink'));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: stack.kubeconfig };
    const time = (args: string[]) =>
      new Promise<number>((resolve, reject) => {
        const start = process.hrtime.bigint();
        execFile(stack.binaries.kubectl, args, { env }, (err) =>
          err ? reject(err) : resolve(Number(process.hrtime.bigint() - start) / 1e6),
        );
      });
    const median = async (args: string[]) => {
      await time(args); // warm: the file cache, the API server's
      const runs: number[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await time(args));
      return runs.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
    };
    const plugin = await median(['flink', 'status', 'basic-example', '-n', 'bench']);
    const get = await median(['get', 'flinkdeployment', 'basic-example', '-n', 'bench', '-o', 'yaml']);
    report.add('plugin_status_p50', plugin, 'ms');
    report.add('kubectl_get_yaml_p50', get, 'ms');
    report.add('plugin_to_kubectl_ratio', plugin / get, 'x');
    report.summary([
      'target: ratio ≤ 1.5 (the status screen makes four API calls: the resource, its events, its snapshots, its session)',
    ]);
  } finally {
    await stack.stop();
  }
}
