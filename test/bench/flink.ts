// Real Flink behind JobManager pods: how long from a pod Running to its Flink's REST API answering and to its
// job RUNNING, and what each JobManager JVM costs in memory, with four at once.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStack } from '../../local/stack.js';
import { jobManager } from '../support/jobmanager.js';
import { memoryMb, Report, until } from './report.js';

const APPS = ['one', 'two', 'three', 'four'];

export async function benchFlink(): Promise<void> {
  const report = new Report('flink: one JobManager pod, then four applied at once; each a real Flink running CountingJob at parallelism 2');
  const stack = await LocalStack.start({ stateDir: mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-')) });
  try {
    await stack.createNamespace('bench');
    await stack.kubectl(['apply', '-f', '-'], { input: jobManager('bench', 'solo') });
    const solo = await follow(stack, 'solo');
    report.add('flink.single.pod-running-to-rest', solo.rest, 'ms');
    report.add('flink.single.pod-running-to-job-running', solo.job, 'ms');
    await stack.kubectl(['delete', 'deployment', 'solo', '-n', 'bench']);
    for (const app of APPS) await stack.kubectl(['apply', '-f', '-'], { input: jobManager('bench', app) });
    const timings = await Promise.all(APPS.map((app) => follow(stack, app)));
    const p = (values: number[], q: number) => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
    report.add('flink.four.pod-running-to-rest.p50', p(timings.map((t) => t.rest), 0.5), 'ms');
    report.add('flink.four.pod-running-to-rest.max', Math.max(...timings.map((t) => t.rest)), 'ms');
    report.add('flink.four.pod-running-to-job-running.p50', p(timings.map((t) => t.job), 0.5), 'ms');
    report.add('flink.four.pod-running-to-job-running.max', Math.max(...timings.map((t) => t.job)), 'ms');
    const rss = APPS.map((app) => memoryMb(stack.flinkRunner!.cluster('bench', app)!.process.pid!, 'VmRSS'));
    report.add('flink.four.jobmanager-rss.mean', rss.reduce((a, b) => a + b, 0) / rss.length, 'MB');
    report.add('flink.four.jobmanager-rss.max', Math.max(...rss), 'MB');
    report.summary(['Each JVM is a whole cluster (JobManager and TaskManager) with -Xmx512m; times run from the pod\'s Running (kwok, to the second) on a 2-core machine.']);
  } finally {
    await stack.stop();
  }
}

async function follow(stack: LocalStack, app: string): Promise<{ rest: number; job: number }> {
  const podRunning = await until(async () => {
    const out = await stack.kubectl(['get', 'pods', '-n', 'bench', '-l', `app=${app}`, '-o', 'jsonpath={.items[0].status.startTime}']);
    return out ? Date.parse(out) : undefined;
  });
  const restUrl = await until(async () => (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)[`bench/${app}`]);
  const rest = Date.now() - podRunning;
  await until(async () => {
    const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as { jobs: { state: string }[] };
    return jobs.some((j) => j.state === 'RUNNING') || undefined;
  });
  return { rest, job: Date.now() - podRunning };
}
