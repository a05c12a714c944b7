// npm run bench -- autoscaler: one autoscaler cycle of a 20-vertex job — its REST calls and time against a Flink
// that answers as Flink 2.2.1 does (a stand-in: a thousand cycles of a real JobManager are not what is measured),
// the operator CPU it costs per autoscaled resource and minute (one cycle per reconcile interval, default 1 min),
// and what a Flink that stalls does to it: the cycle ends at its budget, with no decision.
import { autoscalerConfig } from '../../api/autoscaler/options.js';
import { readJobDetails, type Sample } from '../../api/autoscaler/sample.js';
import { emptyState, encodeState } from '../../api/autoscaler/state.js';
import { FINALIZER, planDeployment } from '../../api/reconcile/plan.js';
import { writeSpecEnvelope } from '../../api/spec-envelope.js';
import { AutoscalerMetrics } from '../../operator/controllers/autoscaler-metrics.js';
import { fakeFlink, JOB, jobDetails } from '../support/autoscaled-flink.js';
import { Report } from './report.js';

const VERTICES = 20;

export async function benchAutoscaler(): Promise<void> {
  const report = new Report('Autoscaler: one cycle of a 20-vertex job');
  const c = autoscalerConfig({ 'job.autoscaler.enabled': 'true' });
  const view = readJobDetails(jobDetails(VERTICES, 0))!;

  // Collection: calls and time per cycle.
  const fast = await fakeFlink({ vertices: VERTICES });
  const metrics = new AutoscalerMetrics();
  const cycles = 50;
  let sample: Sample | undefined;
  const callsBefore = fast.calls();
  const started = performance.now();
  for (let i = 0; i < cycles; i++) {
    const result = await metrics.collect(fast.url, JOB, jobDetails(VERTICES, i), view, c, 10_000, Date.now());
    if ('sample' in result) sample = result.sample;
  }
  report.add('autoscaler.collect.time', (performance.now() - started) / cycles, 'ms/cycle');
  report.add('autoscaler.collect.rest-calls', (fast.calls() - callsBefore) / cycles, 'calls/cycle');
  if (!sample) throw new Error('no sample was collected');

  // The planner's part: state read and written (a full window of 15 samples), the decision, the status.
  const spec = {
    image: 'flink:2.2',
    flinkVersion: 'v2_2',
    serviceAccount: 'flink',
    flinkConfiguration: { 'job.autoscaler.enabled': 'true', 'jobmanager.scheduler': 'adaptive' },
    jobManager: { resource: { memory: '1g', cpu: 1 } },
    taskManager: { resource: { memory: '1g', cpu: 1 } },
    job: { jarURI: 'local:///job.jar', parallelism: 4, state: 'running', upgradeMode: 'stateless' },
  };
  const recorded = writeSpecEnvelope({ spec, apiVersion: 'flink.apache.org/v1beta1', firstDeployment: false });
  // Samples a minute apart whose counters grow and whose rates wander, as a real window's do.
  const window = Array.from({ length: 15 }, (_, i) => ({
    time: Date.now() - (16 - i) * 60_000,
    globalMetrics: sample!.globalMetrics,
    vertexMetrics: Object.fromEntries(
      Object.entries(sample!.vertexMetrics).map(([id, m]) => [
        id,
        Object.fromEntries(
          Object.entries(m).map(([k, v]) => [k, Math.round(v * (1 + i * 0.37 + Math.random()) * 1000) / 1000]),
        ),
      ]),
    ),
  }));
  const stored = encodeState({ ...emptyState(), samples: window });
  const planOnce = () =>
    planDeployment({
      resource: {
        metadata: { name: 'bench', namespace: 'ns', uid: 'u', generation: 1, finalizers: [FINALIZER] },
        spec: spec as never,
        status: {
          jobManagerDeploymentStatus: 'READY',
          jobStatus: { jobId: JOB, state: 'RUNNING' },
          reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: recorded, lastStableSpec: recorded },
        },
      },
      observation: {
        now: Date.now(),
        jobManager: { phase: 'present', generation: 1, available: true },
        rest: { reachable: true, jobs: [{ id: JOB, name: 'bench', state: 'RUNNING', startTime: 1 }] },
        autoscaler: { stored: { data: stored, resourceVersion: '1' }, view, sample: { sample: sample! } },
      },
      operatorConfig: {},
      newJobId: 'b'.repeat(32),
    });
  const plans = 200;
  const planStarted = performance.now();
  for (let i = 0; i < plans; i++) planOnce();
  const planMs = (performance.now() - planStarted) / plans;
  report.add('autoscaler.decide.time', planMs, 'ms/cycle');
  report.add('autoscaler.state.size', Object.values(stored).reduce((n, v) => n + v.length, 0) / 1024, 'KB');

  // CPU of a whole cycle (collection and planning), one per resource per reconcile interval (1 min by default).
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < cycles; i++) {
    await metrics.collect(fast.url, JOB, jobDetails(VERTICES, i), view, c, 10_000, Date.now());
    planOnce();
  }
  const cpu = process.cpuUsage(cpuBefore);
  report.add('autoscaler.cpu.per-resource', (cpu.user + cpu.system) / 1000 / cycles, 'ms/min');
  fast.close();

  // A Flink that stalls: each answer takes 2 s; the cycle's budget is 3 s. It ends there, deciding nothing.
  const slow = await fakeFlink({ vertices: VERTICES, delayMs: 2000 });
  const budgetMs = 3000;
  const slowStarted = performance.now();
  const stalled = await metrics.collect(slow.url, JOB, jobDetails(VERTICES, 1), view, c, budgetMs, Date.now());
  const slowMs = performance.now() - slowStarted;
  slow.close();
  if (!('incomplete' in stalled)) throw new Error('a stalled Flink produced a sample');
  report.add('autoscaler.stalled-flink.cycle', slowMs, 'ms');
  report.add('autoscaler.stalled-flink.budget', budgetMs, 'ms');
  report.summary([
    `collection: ${VERTICES} vertices, 4 at a time; a stalled Flink: "${stalled.incomplete}"`,
    `CPU per autoscaled resource: ${Math.round(((cpu.user + cpu.system) / 1000 / cycles) * 100) / 100} ms a minute at the default reconcile interval`,
  ]);
}
