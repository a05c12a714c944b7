// Session jobs at once: one session cluster (a real Flink), then twenty FlinkSessionJobs applied in one kubectl
// apply — how long until all run, each one's apply→RUNNING, how many jar downloads that took (one per distinct URI),
// and what the operator holds in memory meanwhile.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStack } from '../../local/stack.js';
import { memoryMb, Report, until } from './report.js';

const JOBS = 20;
const JARS = [
  'https://artifacts.example.com/maven2/org/apache/flink/flink-examples-streaming/2.2.0/flink-examples-streaming-2.2.0.jar',
  'https://artifacts.example.com/maven2/org/apache/flink/flink-examples-streaming/2.2.0/flink-examples-streaming-2.2.0-TopSpeedWindowing.jar',
];
const TIMERS = {
  'kubernetes.operator.observer.progress-check.interval': '1 s',
  'kubernetes.operator.reconcile.interval': '15 s',
};

interface Listed {
  items: {
    metadata: { name: string };
    status?: { lifecycleState?: string; jobStatus?: { state?: string; jobId?: string } };
  }[];
}

export async function benchSessionJobs(): Promise<void> {
  const report = new Report(
    `session-jobs: one session cluster (real Flink), then ${JOBS} FlinkSessionJobs applied at once, ${JARS.length} distinct jar URIs`,
  );
  const stack = await LocalStack.start({ stateDir: mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-')) });
  try {
    await stack.createNamespace('bench');
    await stack.kubectl(['apply', '-n', 'bench', '-f', '-'], { input: JSON.stringify(session()) });
    const state = () =>
      stack.kubectl(['get', 'flinkdeployment', 'session', '-n', 'bench', '-o', 'jsonpath={.status.lifecycleState}']);
    await until(async () => (await state()) === 'STABLE' || undefined, 300_000, 500);
    const servedBefore = stack.artifactHost!.served();

    const list = { apiVersion: 'v1', kind: 'List', items: Array.from({ length: JOBS }, (_, i) => job(i)) };
    const applied = Date.now();
    await stack.kubectl(['apply', '-n', 'bench', '-f', '-'], { input: JSON.stringify(list) });
    const running = new Map<string, number>();
    let peakRss = 0;
    await until(
      async () => {
        const { items } = JSON.parse(
          await stack.kubectl(['get', 'flinksessionjobs', '-n', 'bench', '-o', 'json']),
        ) as Listed;
        for (const item of items)
          if (item.status?.jobStatus?.state === 'RUNNING' && !running.has(item.metadata.name))
            running.set(item.metadata.name, Date.now() - applied);
        peakRss = Math.max(peakRss, memoryMb(stack.operator()!.pid!, 'VmRSS'));
        return running.size === JOBS || undefined;
      },
      600_000,
      250,
    );
    const allRunning = Date.now() - applied;

    const url = (JSON.parse(readFileSync(stack.flinkRestOverridesFile, 'utf8')) as Record<string, string>)[
      'bench/session'
    ]!;
    const { jobs } = (await (await fetch(`${url}/jobs/overview`)).json()) as { jobs: { state: string }[] };
    const times = [...running.values()].sort((a, b) => a - b);
    const quantile = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
    report.add('session-jobs.twenty.apply-to-all-running', allRunning, 'ms');
    report.add('session-jobs.twenty.apply-to-running.p50', quantile(0.5), 'ms');
    report.add('session-jobs.twenty.apply-to-running.p99', quantile(0.99), 'ms');
    report.add('session-jobs.twenty.flink-jobs-running', jobs.filter((j) => j.state === 'RUNNING').length, 'jobs');
    report.add('session-jobs.twenty.jar-downloads', stack.artifactHost!.served() - servedBefore, 'downloads');
    report.add('session-jobs.twenty.operator-rss.peak', peakRss, 'MB');
    report.add('session-jobs.twenty.operator-rss.high-water', memoryMb(stack.operator()!.pid!, 'VmHWM'), 'MB');
    report.summary([
      "Times run from the end of one `kubectl apply` of all twenty to each job's status saying RUNNING (polled every 250 ms),",
      'on a 2-core machine whose Flink session runs every job in one local TaskManager; downloads are counted by the artifact host.',
    ]);
  } finally {
    await stack.stop();
  }
}

/** A session cluster for the benchmarks' session jobs, offering `slots` task slots. */
export function session(slots = JOBS): object {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: { name: 'session' },
    spec: {
      image: 'flink:2.2',
      flinkVersion: 'v2_2',
      serviceAccount: 'flink',
      flinkConfiguration: { ...TIMERS, 'taskmanager.numberOfTaskSlots': String(slots) },
      jobManager: { resource: { memory: '2048m', cpu: 1 } },
      taskManager: { resource: { memory: '2048m', cpu: 1 } },
    },
  };
}

function job(i: number): object {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkSessionJob',
    metadata: { name: `job-${String(i).padStart(2, '0')}` },
    spec: {
      deploymentName: 'session',
      flinkConfiguration: TIMERS,
      job: {
        jarURI: JARS[i % JARS.length],
        parallelism: 1,
        upgradeMode: 'stateless',
        args: ['--events-per-second', '5'],
      },
    },
  };
}
