// The reconciler at scale: 100 and then 1,000 FlinkDeployments (upstream basic.yaml) applied at once, each through
// the real admission chain and a real kube-apiserver, with the Flink REST stand-in behind the JobManager pods (a
// thousand real Flink JVMs do not fit on one machine). Every count comes from the API server's audit log, memory
// from /proc — never from the operator's own counters. Beside it, in the same run, the control plane's own floor:
// 1,000 plain Deployments cloned from one of our JobManager Deployments, created as fast, until all are Available.
// Both are followed with a watch, not by listing: the benchmark must not load the API server it measures.
import { createReadStream, mkdtempSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { API_VERSION, FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import { IDENTITIES } from '../../local/control-plane/pki.js';
import { LocalStack } from '../../local/stack.js';
import { KubeClient, objectPath, type KubeObject } from '../../kube/client.js';
import { loadKubeConfig } from '../../kube/kubeconfig.js';
import { flinkDeploymentCache, type FlinkDeploymentObject } from '../../kube/flink-resources.js';
import { startInformer } from '../../kube/informer.js';
import { bundle } from '../../local/image.js';
import { upstreamExamplesDir } from '../support/paths.js';
import { cpuSeconds, memoryMb, Report, until } from './report.js';
import type { KubernetesObject } from '@kubernetes/client-node';

const ROUNDS = [100, 1000];
const FLOOR = 1000;
const STEADY_WINDOW_MS = 60_000;
const TIMEOUT_MS = 600_000;
const SCALE = 5000;
const PICKUPS = 20;

interface Audit {
  verb: string;
  stage: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string };
  requestReceivedTimestamp: string;
}

export async function benchReconciler(): Promise<void> {
  const report = new Report(
    'reconciler: N FlinkDeployments applied at once (upstream basic.yaml), through the webhook and a real kube-apiserver',
  );
  const bundleDir = mkdtempSync(join(tmpdir(), 'flink-operator-ts-bundle-'));
  await bundle(bundleDir);
  const stack = await LocalStack.start({
    stateDir: mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-')),
    flinkStandIn: true,
    nodes: 5,
    bundleDir,
  });
  try {
    const kc = (await loadKubeConfig(stack.kubeconfig))!;
    const client = KubeClient.fromKubeConfig(kc, 'bench');
    const took = new Map<number, number>();
    for (const n of ROUNDS) {
      took.set(n, await round(stack, client, report, n));
      if (n === ROUNDS[0]) {
        const floor = await controlPlaneFloor(stack, client, report, n);
        report.add(`reconciler.floor.${FLOOR}.all-available`, floor / 1000, 's');
        took.set(-FLOOR, floor);
      }
    }
    report.add(`reconciler.${FLOOR}.of-floor`, took.get(FLOOR)! / took.get(-FLOOR)!, 'x');
    client.close();
    report.summary([
      'Flink: the REST stand-in (local/flink/stand-in.ts) answers for every JobManager pod; it passes the same REST contract test as real Flink.',
      'Its jobs take 1 s to go from INITIALIZING to RUNNING. Five kwok nodes (each fits 512 JobManagers of 2 GiB).',
      'Operator: reconcile interval 15 s, progress-check 2 s, 50 workers; the operator and webhook bundles the image runs.',
      'Writes exclude Leases and Events (SPEC §9). Lifecycle transitions to STABLE: CREATED → UPGRADING → DEPLOYED → STABLE (3).',
      `floor: ${FLOOR} Deployments cloned from one of ours (same pod template, relabelled so neither the operator nor the stand-in`,
      'sees them), created by 32 clients at once, until all Available; of-floor: all STABLE over that (target ≤ 1.25).',
      'cpu-per-resource: CPU time each process spent from the first create until the last resource was STABLE (Available),',
      'per resource (benchmark: this process, its clients and watches and the Flink stand-in); cpu-busy: all of them',
      'together over the cores the machine has for that time.',
    ]);
  } finally {
    await stack.stop();
  }
}

async function round(stack: LocalStack, client: KubeClient, report: Report, n: number): Promise<number> {
  const ns = `bench-${n}`;
  await stack.createNamespace(ns);
  const basic = parse(readFileSync(join(upstreamExamplesDir, 'basic.yaml'), 'utf8')) as KubeObject;
  const path = objectPath(API_VERSION, FLINK_DEPLOYMENT.plural, ns);
  const operatorPid = stack.operator()!.pid!;
  const appliedAt = new Map<string, number>();
  const { watch, at: stableAt } = whenReached(client, ns, (obj) => obj.status?.lifecycleState === 'STABLE');
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryMb(operatorPid, 'VmRSS'))), 250);

  const cpu = cpuMeter(stack);
  const start = Date.now();
  await pool(n, 32, async (i) => {
    const name = `basic-${i}`;
    await client.create(path, { ...basic, metadata: { name, namespace: ns } });
    appliedAt.set(name, Date.now());
  });
  const appliedIn = Date.now() - start;
  const timeoutMs = Math.max(TIMEOUT_MS, n * 400);
  await until(async () => stableAt.size >= n || undefined, timeoutMs, 100).catch(() => {
    throw new Error(`only ${stableAt.size} of ${n} STABLE after ${timeoutMs / 1000} s`);
  });
  clearInterval(sampler);
  cpu.report(report, `reconciler.${n}`, n);
  await watch.stop();
  const allStable = Math.max(...stableAt.values());
  const latencies = [...stableAt].map(([name, at]) => at - appliedAt.get(name)!).sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;

  report.add(`reconciler.${n}.apply-all`, appliedIn / 1000, 's');
  report.add(`reconciler.${n}.all-stable`, (allStable - start) / 1000, 's');
  report.add(`reconciler.${n}.apply-to-stable.p50`, q(0.5) / 1000, 's');
  report.add(`reconciler.${n}.apply-to-stable.p99`, q(0.99) / 1000, 's');

  await new Promise((r) => setTimeout(r, 1500)); // the audit log is written in 1 s batches
  const ours = (from: number, to: number) =>
    auditEvents(stack, (e) => {
      const at = Date.parse(e.requestReceivedTimestamp);
      return e.user.username === IDENTITIES.operator.user && e.objectRef?.namespace === ns && at >= from && at <= to;
    });
  const toStable = await ours(start, allStable);
  const isWrite = (e: Audit) =>
    ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(e.verb) &&
    e.objectRef?.resource !== 'events' &&
    e.objectRef?.resource !== 'leases';
  report.add(
    `reconciler.${n}.api-requests-per-resource-to-stable`,
    toStable.filter((e) => e.objectRef?.resource !== 'events').length / n,
    'requests',
  );
  report.add(`reconciler.${n}.writes-per-resource-to-stable`, toStable.filter(isWrite).length / n, 'writes');
  report.add(
    `reconciler.${n}.status-writes-per-resource-to-stable`,
    toStable.filter((e) => e.objectRef?.subresource === 'status').length / n,
    'writes',
  );

  const steadyFrom = Date.now();
  await new Promise((r) => setTimeout(r, STEADY_WINDOW_MS));
  const steadyRss = memoryMb(operatorPid, 'VmRSS');
  peakRss = Math.max(peakRss, steadyRss);
  await new Promise((r) => setTimeout(r, 1500));
  const steady = await ours(steadyFrom, steadyFrom + STEADY_WINDOW_MS);
  report.add(
    `reconciler.${n}.steady-writes-per-resource-per-minute`,
    steady.filter(isWrite).length / n / (STEADY_WINDOW_MS / 60_000),
    'writes',
  );
  report.add(
    `reconciler.${n}.steady-reads-per-resource-per-minute`,
    steady.filter((e) => !isWrite(e)).length / n / (STEADY_WINDOW_MS / 60_000),
    'requests',
  );
  report.add(`reconciler.${n}.operator-peak-rss`, Math.max(peakRss, memoryMb(operatorPid, 'VmHWM')), 'MB');
  report.add(`reconciler.${n}.operator-steady-rss`, steadyRss, 'MB');
  return allStable - start;
}

/**
 * SCALE resources on the operator as the image runs it (its bundle): all STABLE, then a steady minute (memory, writes),
 * then PICKUPS spec changes made one at a time to resources spread over the set while all others stay idle, each timed
 * from the PATCH until a watcher sees the operator's observedGeneration reach the new generation.
 */
export async function benchScale(): Promise<void> {
  const report = new Report(
    `scale: ${SCALE} FlinkDeployments (upstream basic.yaml) on the bundled operator, Flink REST stand-in, twelve kwok nodes`,
  );
  const bundleDir = mkdtempSync(join(tmpdir(), 'flink-operator-ts-bundle-'));
  await bundle(bundleDir);
  const stack = await LocalStack.start({
    stateDir: mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-')),
    flinkStandIn: true,
    nodes: 12,
    bundleDir,
  });
  try {
    const client = KubeClient.fromKubeConfig((await loadKubeConfig(stack.kubeconfig))!, 'bench');
    await round(stack, client, report, SCALE);
    const passesBefore = await passDurations(stack);
    const latencies = await specPickups(client, `bench-${SCALE}`);
    const passes = diffCounts(await passDurations(stack), passesBefore);
    const total = passes.get(Infinity) ?? 0;
    for (const le of [0.1, 0.5, 1])
      report.add(
        `reconciler.${SCALE}.steady-passes-over-${le}s`,
        total > 0 ? (100 * (total - (passes.get(le) ?? 0))) / total : 0,
        '%',
      );
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    report.add(`reconciler.${SCALE}.spec-change-picked-up.p50`, q(0.5), 'ms');
    report.add(`reconciler.${SCALE}.spec-change-picked-up.p90`, q(0.9), 'ms');
    report.add(`reconciler.${SCALE}.spec-change-picked-up.p99`, q(0.99), 'ms');
    report.add(
      `reconciler.${SCALE}.spec-change-picked-up.within-1s`,
      latencies.filter((ms) => ms <= 1000).length,
      `of ${PICKUPS}`,
    );
    client.close();
    report.summary([
      `Targets (issue 18): operator RSS ≤ 250 MB at ${SCALE} (≤ 120 MB at 1,000), zero writes per minute once stable, a spec change`,
      `picked up within 1 s p99 while the others are idle (${PICKUPS} changes of spec.restartNonce, one at a time, 1 s apart).`,
      'Operator: reconcile interval 15 s, progress-check 2 s, 50 workers; the bundle the image runs.',
    ]);
  } finally {
    await stack.stop();
  }
}

/**
 * How long the operator's FlinkDeployment reconciles have taken so far: its `workqueue_work_duration_seconds` buckets
 * (upper bound in seconds → count), read from its /metrics. A change that arrives while its resource's periodic pass
 * is in a worker's hands waits for that pass, so the share of slow passes bounds how often a pickup can be slow.
 */
async function passDurations(stack: LocalStack): Promise<Map<number, number>> {
  const port = stack.operatorHealthPort();
  if (port === undefined) throw new Error('the operator log does not say where its metrics are');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const [, labels, count] of text.matchAll(/^workqueue_work_duration_seconds_bucket\{([^}]*)\} (\d+)$/gm)) {
    const le = /le="([^"]+)"/.exec(labels!)?.[1];
    if (le && labels!.includes('name="flinkdeployment"'))
      buckets.set(le === '+Inf' ? Infinity : Number(le), Number(count));
  }
  return buckets;
}

const diffCounts = (after: Map<number, number>, before: Map<number, number>) =>
  new Map([...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)]));

/** Follows a namespace's FlinkDeployments, noting when each first meets `reached`. */
function whenReached(client: KubeClient, ns: string, reached: (obj: FlinkDeploymentObject) => boolean) {
  const at = new Map<string, number>();
  const watch = flinkDeploymentCache(client, {
    namespace: ns,
    onChange: (obj) => {
      const name = obj.metadata!.name!;
      if (!at.has(name) && reached(obj as FlinkDeploymentObject)) at.set(name, Date.now());
    },
  });
  return { watch, at };
}

async function specPickups(client: KubeClient, ns: string): Promise<number[]> {
  const wanted = new Map<string, number>();
  const { watch, at: seenAt } = whenReached(
    client,
    ns,
    (obj) => (obj.status?.observedGeneration ?? 0) >= (wanted.get(obj.metadata!.name!) ?? Infinity),
  );
  try {
    await until(async () => watch.synced() || undefined);
    const latencies: number[] = [];
    for (let i = 0; i < PICKUPS; i++) {
      const name = `basic-${Math.floor((i * SCALE) / PICKUPS)}`;
      wanted.set(name, watch.get(ns, name)!.metadata!.generation! + 1);
      const sentAt = Date.now();
      await client.patch(objectPath(API_VERSION, FLINK_DEPLOYMENT.plural, ns, name), 'merge', {
        spec: { restartNonce: i + 1 },
      });
      latencies.push((await until(async () => seenAt.get(name), 60_000, 2)) - sentAt);
      await new Promise((r) => setTimeout(r, 1000));
    }
    return latencies.sort((a, b) => a - b);
  } finally {
    await watch.stop();
  }
}

/**
 * The control plane alone: FLOOR Deployments shaped like ours (cloned from a JobManager Deployment of `from`'s round)
 * created by 32 clients, until a watch has seen every one Available. No webhook, no operator, no Flink.
 */
async function controlPlaneFloor(stack: LocalStack, client: KubeClient, report: Report, from: number): Promise<number> {
  const ns = `floor-${FLOOR}`;
  await stack.createNamespace(ns);
  const ours = await client.get<
    KubeObject & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { metadata: { labels: Record<string, string> } };
      };
    }
  >(objectPath('apps/v1', 'deployments', `bench-${from}`, 'basic-0'));
  const available = new Set<string>();
  const watch = startInformer<KubernetesObject>(client, `/apis/apps/v1/namespaces/${ns}/deployments`, {
    onChange: (obj) => {
      if (((obj as { status?: { availableReplicas?: number } }).status?.availableReplicas ?? 0) > 0)
        available.add(obj.metadata!.name!);
    },
  });
  const cpu = cpuMeter(stack);
  const start = Date.now();
  await pool(FLOOR, 32, async (i) => {
    const labels = { app: `floor-${i}`, component: 'floor' };
    const clone = structuredClone(ours);
    clone.metadata = { name: `floor-${i}`, namespace: ns, labels };
    clone.spec.selector = { matchLabels: labels };
    clone.spec.template.metadata.labels = labels;
    delete (clone as { status?: unknown }).status;
    await client.create(objectPath('apps/v1', 'deployments', ns), clone);
  });
  await until(async () => available.size >= FLOOR || undefined, TIMEOUT_MS, 100);
  const took = Date.now() - start;
  cpu.report(report, `reconciler.floor.${FLOOR}`, FLOOR);
  await watch.stop();
  return took;
}

/**
 * The CPU each process of the stack spends from now until `report`, per resource, and how busy the machine's cores
 * were meanwhile: on one machine the control plane, the operator, the webhook and the benchmark share the cores, so
 * when they are saturated the time to STABLE is the CPU all of them spend per resource.
 */
function cpuMeter(stack: LocalStack) {
  const pids = Object.entries(stack.processIds()).filter((e): e is [string, number] => e[1] !== undefined);
  const own = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  const sample = () =>
    new Map([...pids.map(([name, pid]) => [name, cpuSeconds(pid)] as const), [BENCH_PROCESS, own()]]);
  const before = sample();
  const startedAt = Date.now();
  return {
    report(report: Report, prefix: string, resources: number): void {
      const spent = [...sample()]
        .map(([name, seconds]) => [name, seconds - before.get(name)!] as const)
        .sort((a, b) => b[1] - a[1]);
      for (const [name, seconds] of spent)
        report.add(`${prefix}.cpu-per-resource.${name.replace(' (operator)', '')}`, (seconds * 1000) / resources, 'ms');
      const total = spent.reduce((sum, [, seconds]) => sum + seconds, 0);
      report.add(
        `${prefix}.cpu-busy`,
        (100 * total) / (((Date.now() - startedAt) / 1000) * availableParallelism()),
        '%',
      );
    },
  };
}
/** This process: its clients, its watches and the Flink REST stand-in. */
const BENCH_PROCESS = 'benchmark';

/** The completed requests `keep` accepts, read line by line: at 5,000 resources the log outgrows one string. */
async function auditEvents(stack: LocalStack, keep: (e: Audit) => boolean): Promise<Audit[]> {
  const kept: Audit[] = [];
  for await (const line of createInterface({ input: createReadStream(stack.controlPlane.auditLog) })) {
    if (!line) continue;
    const e = JSON.parse(line) as Audit;
    if (e.stage === 'ResponseComplete' && keep(e)) kept.push(e);
  }
  return kept;
}

async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
