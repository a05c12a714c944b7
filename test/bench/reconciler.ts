// The reconciler at scale: 100 and then 1,000 FlinkDeployments (upstream basic.yaml) applied at once, each through
// the real admission chain and a real kube-apiserver, with the Flink REST stand-in behind the JobManager pods (a
// thousand real Flink JVMs do not fit on one machine). Every count comes from the API server's audit log, memory
// from /proc — never from the operator's own counters.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { API_VERSION, FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import { IDENTITIES } from '../../local/control-plane/pki.js';
import { LocalStack } from '../../local/stack.js';
import { KubeClient, objectPath, type KubeObject } from '../../kube/client.js';
import { loadKubeConfig } from '../../kube/kubeconfig.js';
import { upstreamExamplesDir } from '../support/paths.js';
import { memoryMb, Report } from './report.js';

const ROUNDS = [100, 1000];
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
  const stack = await LocalStack.start({ stateDir: mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-')), flinkStandIn: true, nodes: 3 });
  try {
    const client = await KubeClient.fromKubeConfig((await loadKubeConfig(stack.kubeconfig))!, 'bench');
    for (const n of ROUNDS) await round(stack, client, report, n);
    client.close();
    report.summary([
      'Flink: the REST stand-in (local/flink/stand-in.ts) answers for every JobManager pod; it passes the same REST contract test as real Flink.',
      'Its jobs take 1 s to go from INITIALIZING to RUNNING. Three kwok nodes (each fits 512 JobManagers of 2 GiB).',
      'Operator: reconcile interval 15 s, progress-check 2 s, 50 workers.',
      'Writes exclude Leases and Events (SPEC §9). Lifecycle transitions to STABLE: CREATED → UPGRADING → DEPLOYED → STABLE (3).',
    ]);
  } finally {
    await stack.stop();
  }
}

async function round(stack: LocalStack, client: KubeClient, report: Report, n: number): Promise<void> {
  const ns = `bench-${n}`;
  await stack.createNamespace(ns);
  const basic = parse(readFileSync(join(upstreamExamplesDir, 'basic.yaml'), 'utf8')) as KubeObject;
  const path = objectPath(API_VERSION, FLINK_DEPLOYMENT.plural, ns);
  const operatorPid = stack.operator()!.pid!;
  const appliedAt = new Map<string, number>();
  const stableAt = new Map<string, number>();

  const start = Date.now();
  await pool(n, 32, async (i) => {
    const name = `basic-${i}`;
    await client.create(path, { ...basic, metadata: { name, namespace: ns } });
    appliedAt.set(name, Date.now());
  });
  const appliedIn = Date.now() - start;
  let peakRss = 0;
  while (stableAt.size < n) {
    if (Date.now() - start > TIMEOUT_MS) throw new Error(`only ${stableAt.size} of ${n} STABLE after ${TIMEOUT_MS / 1000} s`);
    for (const item of await client.list<KubeObject & { status?: { lifecycleState?: string } }>(path)) {
      const name = item.metadata!.name!;
      if (item.status?.lifecycleState === 'STABLE' && !stableAt.has(name)) stableAt.set(name, Date.now());
    }
    peakRss = Math.max(peakRss, memoryMb(operatorPid, 'VmRSS'));
    await new Promise((r) => setTimeout(r, 250));
  }
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
