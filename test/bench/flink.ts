// Real Flink behind JobManager pods: how long from a pod Running to its Flink's REST API answering and to its
// job RUNNING, and what each JobManager JVM costs in memory, with four at once. Then one resource through the
// operator: upstream's basic.yaml applied until STABLE, beside Flink's own time to a RUNNING job in the same run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LocalStack } from '../../local/stack.js';
import { jobManager } from '../support/jobmanager.js';
import { upstreamExamplesDir } from '../support/paths.js';
import { memoryMb, Report, until } from './report.js';

const APPS = ['one', 'two', 'three', 'four'];

export async function benchFlink(): Promise<void> {
  const report = new Report(
    'flink: one JobManager pod, then four applied at once; each a real Flink running CountingJob at parallelism 2',
  );
  const stack = await LocalStack.start({ stateDir: mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-')) });
  try {
    await stack.createNamespace('bench');
    const appliedAt = Date.now();
    await stack.kubectl(['apply', '-f', '-'], { input: jobManager('bench', 'solo') });
    const solo = await follow(stack, 'solo');
    const floor = (await jobRunningAt(restUrlOf(stack, 'solo'))) - appliedAt;
    report.add('flink.single.pod-running-to-rest', solo.rest, 'ms');
    report.add('flink.single.pod-running-to-job-running', solo.job, 'ms');
    report.add('flink.single.apply-to-job-running', floor, 'ms');
    await stack.kubectl(['delete', 'deployment', 'solo', '-n', 'bench']);
    const operated = await throughOperator(stack);
    report.add('flink.operator.apply-to-job-running', operated.running, 'ms');
    report.add('flink.operator.apply-to-stable', operated.stable, 'ms');
    report.add('flink.operator.job-running-to-stable', operated.stable - operated.running, 'ms');
    report.add('flink.operator.stable-over-floor', operated.stable - floor, 'ms');
    await stack.kubectl(['delete', 'flinkdeployment', 'basic-example', '-n', 'bench', '--wait=true']);
    for (const app of APPS) await stack.kubectl(['apply', '-f', '-'], { input: jobManager('bench', app) });
    const timings = await Promise.all(APPS.map((app) => follow(stack, app)));
    const p = (values: number[], q: number) =>
      values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
    report.add(
      'flink.four.pod-running-to-rest.p50',
      p(
        timings.map((t) => t.rest),
        0.5,
      ),
      'ms',
    );
    report.add('flink.four.pod-running-to-rest.max', Math.max(...timings.map((t) => t.rest)), 'ms');
    report.add(
      'flink.four.pod-running-to-job-running.p50',
      p(
        timings.map((t) => t.job),
        0.5,
      ),
      'ms',
    );
    report.add('flink.four.pod-running-to-job-running.max', Math.max(...timings.map((t) => t.job)), 'ms');
    const rss = APPS.map((app) => memoryMb(stack.flinkRunner!.cluster('bench', app)!.process.pid!, 'VmRSS'));
    report.add('flink.four.jobmanager-rss.mean', rss.reduce((a, b) => a + b, 0) / rss.length, 'MB');
    report.add('flink.four.jobmanager-rss.max', Math.max(...rss), 'MB');
    report.summary([
      "Each JVM is a whole cluster (JobManager and TaskManager) with -Xmx512m; pod-running times run from the pod's Running (kwok, to the second) on a 2-core machine.",
      "floor (apply-to-job-running): a hand-written JobManager Deployment and ConfigMap applied until Flink's own RUNNING timestamp of its job.",
      "operator: upstream basic.yaml with upstream's default progress-check interval (10 s) set on it, applied until a watch sees STABLE;",
      "target: STABLE no later than 2 s after the floor and after its own job's RUNNING timestamp.",
    ]);
  } finally {
    await stack.stop();
  }
}

const restUrlOf = (stack: LocalStack, app: string): string =>
  (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)[`bench/${app}`]!;

/** When Flink says its (one) job turned RUNNING, by its own clock: `/jobs/:id` `timestamps.RUNNING`. */
async function jobRunningAt(restUrl: string): Promise<number> {
  return until(async () => {
    const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as {
      jobs: { jid: string; state: string }[];
    };
    const job = jobs.find((j) => j.state === 'RUNNING');
    if (!job) return undefined;
    const details = (await (await fetch(`${restUrl}/jobs/${job.jid}`)).json()) as {
      timestamps?: Record<string, number>;
    };
    return details.timestamps?.RUNNING || undefined;
  });
}

/** basic.yaml through the webhook and the operator: when a watch sees it STABLE, and when Flink ran its job. */
async function throughOperator(stack: LocalStack): Promise<{ running: number; stable: number }> {
  const doc = parse(readFileSync(join(upstreamExamplesDir, 'basic.yaml'), 'utf8')) as {
    spec: { flinkConfiguration?: Record<string, string> };
  };
  doc.spec.flinkConfiguration = {
    ...doc.spec.flinkConfiguration,
    'kubernetes.operator.observer.progress-check.interval': '10 s',
  };
  const appliedAt = Date.now();
  await stack.kubectl(['apply', '-n', 'bench', '-f', '-'], { input: JSON.stringify(doc) });
  // A watch prints the current state first: started after the apply, it misses nothing.
  const watch = spawn(
    stack.binaries.kubectl,
    [
      `--kubeconfig=${stack.kubeconfig}`,
      'get',
      'flinkdeployment',
      'basic-example',
      '-n',
      'bench',
      '-w',
      '-o',
      'jsonpath={.status.lifecycleState}{"\\n"}',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const stableAt = await new Promise<number>((resolve, reject) => {
      watch.stdout.on(
        'data',
        (chunk: Buffer) => chunk.toString().split('\n').includes('STABLE') && resolve(Date.now()),
      );
      watch.on('exit', () => reject(new Error('the lifecycle watch ended before STABLE')));
      setTimeout(() => reject(new Error('basic-example not STABLE within 5 min')), 300_000).unref();
    });
    return {
      running: (await jobRunningAt(restUrlOf(stack, 'basic-example'))) - appliedAt,
      stable: stableAt - appliedAt,
    };
  } finally {
    watch.kill();
  }
}

async function follow(stack: LocalStack, app: string): Promise<{ rest: number; job: number }> {
  const podRunning = await until(async () => {
    const out = await stack.kubectl([
      'get',
      'pods',
      '-n',
      'bench',
      '-l',
      `app=${app}`,
      '-o',
      'jsonpath={.items[0].status.startTime}',
    ]);
    return out ? Date.parse(out) : undefined;
  });
  const restUrl = await until(
    async () =>
      (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)[`bench/${app}`],
  );
  const rest = Date.now() - podRunning;
  await until(async () => {
    const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as { jobs: { state: string }[] };
    return jobs.some((j) => j.state === 'RUNNING') || undefined;
  });
  return { rest, job: Date.now() - podRunning };
}
