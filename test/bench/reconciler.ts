// The reconciler at scale: 100 and then 1,000 FlinkDeployments (upstream basic.yaml) applied at once, each through
// the real admission chain and a real kube-apiserver, with the Flink REST stand-in behind the JobManager pods (a
// thousand real Flink JVMs do not fit on one machine). Every count comes from the API server's audit log, memory
// from /proc — never from the operator's own counters. Beside it, in the same run, the control plane's own floor:
// 1,000 plain Deployments cloned from one of our JobManager Deployments, created as fast, until all are Available.
// Both are followed with a watch, not by listing: the benchmark must not load the API server it measures.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { API_VERSION, FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import { IDENTITIES } from '../../local/control-plane/pki.js';
import { LocalStack } from '../../local/stack.js';
import { KubeClient, objectPath, type KubeObject } from '../../kube/client.js';
import { loadKubeConfig } from '../../kube/kubeconfig.js';
import { flinkDeploymentCache } from '../../kube/flink-resources.js';
import { startInformer } from '../../kube/informer.js';
import { upstreamExamplesDir } from '../support/paths.js';
import { memoryMb, Report, until } from './report.js';
import { AppsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

const ROUNDS = [100, 1000];
const FLOOR = 1000;
const STEADY_WINDOW_MS = 60_000;
const TIMEOUT_MS = 600_000;

interface Audit {
  verb: string;
  stage: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string };
  requestReceivedTimestamp: string;
}

export async function benchReconciler(): Promise<void> {
  const report = new Report('reconciler: N FlinkDeployments applied at once (upstream basic.yaml), through the webhook and a real kube-apiserver');
  const stack = await LocalStack.start({ stateDir: mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-')), flinkStandIn: true, nodes: 5 });
  try {
    const kc = (await loadKubeConfig(stack.kubeconfig))!;
    const client = KubeClient.fromKubeConfig(kc, 'bench');
    const took = new Map<number, number>();
    for (const n of ROUNDS) {
      took.set(n, await round(stack, kc, client, report, n));
      if (n === ROUNDS[0]) {
        const floor = await controlPlaneFloor(stack, kc, client, n);
        report.add(`reconciler.floor.${FLOOR}.all-available`, floor / 1000, 's');
        took.set(-FLOOR, floor);
      }
    }
    report.add(`reconciler.${FLOOR}.of-floor`, took.get(FLOOR)! / took.get(-FLOOR)!, 'x');
    client.close();
    report.summary([
      'Flink: the REST stand-in (local/flink/stand-in.ts) answers for every JobManager pod; it passes the same REST contract test as real Flink.',
      'Its jobs take 1 s to go from INITIALIZING to RUNNING. Five kwok nodes (each fits 512 JobManagers of 2 GiB).',
      'Operator: reconcile interval 15 s, progress-check 2 s, 50 workers.',
      'Writes exclude Leases and Events (SPEC §9). Lifecycle transitions to STABLE: CREATED → UPGRADING → DEPLOYED → STABLE (3).',
      `floor: ${FLOOR} Deployments cloned from one of ours (same pod template, relabelled so neither the operator nor the stand-in`,
      'sees them), created by 32 clients at once, until all Available; of-floor: all STABLE over that (target ≤ 1.25).',
    ]);
  } finally {
    await stack.stop();
  }
}

async function round(stack: LocalStack, kc: KubeConfig, client: KubeClient, report: Report, n: number): Promise<number> {
  const ns = `bench-${n}`;
  await stack.createNamespace(ns);
  const basic = parse(readFileSync(join(upstreamExamplesDir, 'basic.yaml'), 'utf8')) as KubeObject;
  const path = objectPath(API_VERSION, FLINK_DEPLOYMENT.plural, ns);
  const operatorPid = stack.operator()!.pid!;
  const appliedAt = new Map<string, number>();
  const stableAt = new Map<string, number>();
  const watch = flinkDeploymentCache(kc, {
    namespace: ns,
    onChange: (obj) => {
      const name = obj.metadata!.name!;
      if ((obj as { status?: { lifecycleState?: string } }).status?.lifecycleState === 'STABLE' && !stableAt.has(name)) stableAt.set(name, Date.now());
    },
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryMb(operatorPid, 'VmRSS'))), 250);

  const start = Date.now();
  await pool(n, 32, async (i) => {
    const name = `basic-${i}`;
    await client.create(path, { ...basic, metadata: { name, namespace: ns } });
    appliedAt.set(name, Date.now());
  });
  const appliedIn = Date.now() - start;
  await until(async () => stableAt.size >= n || undefined, TIMEOUT_MS, 100).catch(() => {
    throw new Error(`only ${stableAt.size} of ${n} STABLE after ${TIMEOUT_MS / 1000} s`);
  });
  clearInterval(sampler);
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
    auditEvents(stack).filter((e) => {
      const at = Date.parse(e.requestReceivedTimestamp);
      return e.user.username === IDENTITIES.operator.user && e.objectRef?.namespace === ns && at >= from && at <= to;
    });
  const toStable = ours(start, allStable);
  const isWrite = (e: Audit) => ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(e.verb) && e.objectRef?.resource !== 'events' && e.objectRef?.resource !== 'leases';
  report.add(`reconciler.${n}.api-requests-per-resource-to-stable`, toStable.filter((e) => e.objectRef?.resource !== 'events').length / n, 'requests');
  report.add(`reconciler.${n}.writes-per-resource-to-stable`, toStable.filter(isWrite).length / n, 'writes');
  report.add(`reconciler.${n}.status-writes-per-resource-to-stable`, toStable.filter((e) => e.objectRef?.subresource === 'status').length / n, 'writes');

  const steadyFrom = Date.now();
  await new Promise((r) => setTimeout(r, STEADY_WINDOW_MS));
  peakRss = Math.max(peakRss, memoryMb(operatorPid, 'VmRSS'));
  await new Promise((r) => setTimeout(r, 1500));
  const steady = ours(steadyFrom, steadyFrom + STEADY_WINDOW_MS);
  report.add(`reconciler.${n}.steady-writes-per-resource-per-minute`, steady.filter(isWrite).length / n / (STEADY_WINDOW_MS / 60_000), 'writes');
  report.add(`reconciler.${n}.steady-reads-per-resource-per-minute`, steady.filter((e) => !isWrite(e)).length / n / (STEADY_WINDOW_MS / 60_000), 'requests');
  report.add(`reconciler.${n}.operator-peak-rss`, Math.max(peakRss, memoryMb(operatorPid, 'VmHWM')), 'MB');
  return allStable - start;
}

/**
 * The control plane alone: FLOOR Deployments shaped like ours (cloned from a JobManager Deployment of `from`'s round)
 * created by 32 clients, until a watch has seen every one Available. No webhook, no operator, no Flink.
 */
async function controlPlaneFloor(stack: LocalStack, kc: KubeConfig, client: KubeClient, from: number): Promise<number> {
  const ns = `floor-${FLOOR}`;
  await stack.createNamespace(ns);
  const ours = await client.get<KubeObject & { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } } }>(objectPath('apps/v1', 'deployments', `bench-${from}`, 'basic-0'));
  const available = new Set<string>();
  const watch = startInformer<KubernetesObject>(kc, `/apis/apps/v1/namespaces/${ns}/deployments`, async () => (await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns })) as never, {
    onChange: (obj) => {
      if (((obj as { status?: { availableReplicas?: number } }).status?.availableReplicas ?? 0) > 0) available.add(obj.metadata!.name!);
    },
  });
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
  await watch.stop();
  return took;
}

function auditEvents(stack: LocalStack): Audit[] {
  return readFileSync(stack.controlPlane.auditLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Audit)
    .filter((e) => e.stage === 'ResponseComplete');
}

async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await task(next++);
  }));
}
