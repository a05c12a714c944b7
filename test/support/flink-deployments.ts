// FlinkDeployments in the local stack, as a user sees them: applied with kubectl, read back with kubectl, and the
// Flink behind them asked directly over its REST API.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { FlinkDeployment, FlinkSessionJob } from '../../api/types.generated.js';
import { upstreamExamplesDir } from './paths.js';
import { eventually, kubectl, localStack } from './stack.js';

export type Deployment = FlinkDeployment & {
  metadata: { name: string; namespace: string; uid: string; generation: number; finalizers?: string[] };
};

/** An upstream example with the timers shortened per resource, as the tests may (SPEC §7). */
export function upstreamDeployment(file: string, patch: (d: Deployment) => void = () => undefined): Deployment {
  const doc = parse(readFileSync(join(upstreamExamplesDir, file), 'utf8')) as Deployment;
  doc.spec!.flinkConfiguration = {
    ...doc.spec!.flinkConfiguration,
    'kubernetes.operator.observer.progress-check.interval': '1 s',
    'kubernetes.operator.reconcile.interval': '5 s',
  };
  patch(doc);
  return doc;
}

export async function apply(ns: string, object: unknown): Promise<void> {
  const result = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(object));
  expect(result.code, result.stderr).to.equal(0);
}

export type ResourceKind = 'flinkdeployment' | 'flinksessionjob' | 'flinkstatesnapshot';

/** A merge patch on `.spec`, as a user's `kubectl patch --type=merge` would. */
export async function patchSpec(
  ns: string,
  name: string,
  spec: unknown,
  kind: ResourceKind = 'flinkdeployment',
): Promise<void> {
  const result = await kubectl(['patch', kind, name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec })]);
  expect(result.code, result.stderr).to.equal(0);
}

export async function getResource<T>(kind: ResourceKind, ns: string, name: string): Promise<T | undefined> {
  const result = await kubectl(['get', kind, name, '-n', ns, '-o', 'json']);
  if (result.code !== 0) return undefined;
  return JSON.parse(result.stdout) as T;
}

export const getDeployment = (ns: string, name: string) => getResource<Deployment>('flinkdeployment', ns, name);

/** Polls the lifecycle until `wanted`, recording every state seen on the way (in order, without repeats). */
export async function waitForLifecycle(
  ns: string,
  name: string,
  wanted: string,
  timeoutMs = 180_000,
  seen: string[] = [],
  kind: ResourceKind = 'flinkdeployment',
): Promise<Deployment> {
  return eventually(
    `${ns}/${name} to be ${wanted} (seen: ${seen.join(' → ')})`,
    async () => {
      const d = await getResource<Deployment>(kind, ns, name);
      const state = d?.status?.lifecycleState;
      if (state && seen[seen.length - 1] !== state) seen.push(state);
      if (state === 'FAILED' && wanted !== 'FAILED') throw new Error(`${ns}/${name} FAILED: ${d?.status?.error}`);
      return state === wanted ? d : undefined;
    },
    timeoutMs,
  );
}

/** Where the runner says this cluster's Flink REST API really listens. */
export async function restUrl(ns: string, name: string): Promise<string | undefined> {
  const file = (await localStack()).flinkRestOverridesFile;
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)[`${ns}/${name}`];
}

export interface FlinkJobView {
  jid: string;
  state: string;
}

export async function flinkJobs(url: string): Promise<FlinkJobView[]> {
  return ((await (await fetch(`${url}/jobs/overview`)).json()) as { jobs: FlinkJobView[] }).jobs;
}

/** Every job of every Flink the runner started, across all namespaces: "exactly one job" is counted here. */
export async function allRunningJobs(): Promise<{ cluster: string; jid: string }[]> {
  const file = (await localStack()).flinkRestOverridesFile;
  const overrides = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const out: { cluster: string; jid: string }[] = [];
  for (const [cluster, url] of Object.entries(overrides)) {
    const jobs = await flinkJobs(url).catch(() => []);
    for (const job of jobs) if (job.state === 'RUNNING') out.push({ cluster, jid: job.jid });
  }
  return out;
}

/** The job Flink runs for this deployment, once it runs. */
export async function runningJob(ns: string, name: string, timeoutMs = 120_000): Promise<{ url: string; jid: string }> {
  return eventually(
    `a RUNNING job in ${ns}/${name}'s Flink`,
    async () => {
      const url = await restUrl(ns, name);
      if (!url) return undefined;
      const job = (await flinkJobs(url)).find((j) => j.state === 'RUNNING');
      return job && { url, jid: job.jid };
    },
    timeoutMs,
  );
}

export async function events(
  ns: string,
  name: string,
): Promise<{ reason: string; message: string; type: string; count: number }[]> {
  const result = await kubectl([
    'get',
    'events',
    '-n',
    ns,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(result.stdout) as { items: { reason: string; message: string; type: string; count: number }[] })
    .items;
}

/** Checkpoints and savepoints on the pod's file system (the runner maps it into the stack), every 2 s. */
export const FILE_SNAPSHOTS = {
  'execution.checkpointing.dir': 'file:///flink-data/checkpoints',
  'execution.checkpointing.savepoint-dir': 'file:///flink-data/savepoints',
  'execution.checkpointing.interval': '2 s',
};

/** basic.yaml with checkpoints and savepoints on the pod's file system, a short checkpoint interval and a mode. */
export function statefulDeployment(
  upgradeMode: 'savepoint' | 'last-state' | 'stateless',
  name = 'basic-example',
): Deployment {
  return upstreamDeployment('basic.yaml', (d) => {
    d.metadata.name = name;
    d.spec!.flinkConfiguration = { ...d.spec!.flinkConfiguration, ...FILE_SNAPSHOTS };
    d.spec!.job!.upgradeMode = upgradeMode;
    d.spec!.job!.args = ['--events-per-second', '20'];
  });
}

export type SessionJob = FlinkSessionJob & { metadata: { name: string; uid: string; generation: number } };

/** A session cluster with snapshots on the pod's file system and a short checkpoint interval, timers shortened. */
export function statefulSession(name = 'session'): Deployment {
  return upstreamDeployment('basic-session-deployment-only.yaml', (d) => {
    d.metadata.name = name;
    d.spec!.flinkConfiguration = { ...d.spec!.flinkConfiguration, ...FILE_SNAPSHOTS };
  });
}

/** A throttled job on the session, stopping with a savepoint on upgrades, timers shortened. */
export function sessionJob(
  name: string,
  session = 'session',
  job: Record<string, unknown> = {},
  flinkConfiguration: Record<string, string> = {},
): SessionJob {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkSessionJob',
    metadata: { name } as SessionJob['metadata'],
    spec: {
      deploymentName: session,
      flinkConfiguration: {
        'kubernetes.operator.observer.progress-check.interval': '1 s',
        'kubernetes.operator.reconcile.interval': '5 s',
        ...flinkConfiguration,
      },
      job: {
        jarURI:
          'https://artifacts.example.com/maven2/org/apache/flink/flink-examples-streaming/2.2.0/flink-examples-streaming-2.2.0.jar',
        parallelism: 2,
        upgradeMode: 'savepoint',
        args: ['--events-per-second', '20'],
        ...job,
      },
    },
  };
}

export const getSessionJob = (ns: string, name: string) => getResource<SessionJob>('flinksessionjob', ns, name);
export const waitForSessionJob = (ns: string, name: string, wanted: string, timeoutMs = 180_000) =>
  waitForLifecycle(ns, name, wanted, timeoutMs, [], 'flinksessionjob') as unknown as Promise<SessionJob>;

/**
 * Session jobs whose jar cannot be fetched: each `[name, jarURI, reason]` applied, then its `status.error` naming the
 * URI and matching the reason, and a Warning event with that message.
 */
export async function expectFetchFailures(
  ns: string,
  cases: readonly [string, string, RegExp][],
  timeoutMs = 60_000,
): Promise<void> {
  for (const [name, uri] of cases)
    await apply(ns, sessionJob(name, 'session', { jarURI: uri, parallelism: 1, upgradeMode: 'stateless' }));
  for (const [name, uri, reason] of cases) {
    const failing = await eventually(
      `${name}: the fetch error in status`,
      async () => {
        const error = (await getSessionJob(ns, name))?.status?.error;
        const message = error ? (JSON.parse(error) as { message: string }).message : undefined;
        return message?.startsWith(`cannot fetch ${uri}`) ? message : undefined;
      },
      timeoutMs,
    );
    expect(failing, name).to.match(reason);
    await eventually(
      `${name}: a Warning event naming the URI`,
      async () => (await events(ns, name)).some((e) => e.type === 'Warning' && e.message === failing),
      30_000,
    );
  }
}

/** The Flink jobs of a session, by state. */
export async function sessionJobs(ns: string, session: string): Promise<{ jid: string; state: string }[]> {
  const url = await restUrl(ns, session);
  return url ? flinkJobs(url) : [];
}

export async function runningIds(ns: string, session: string): Promise<string[]> {
  return (await sessionJobs(ns, session))
    .filter((j) => j.state === 'RUNNING')
    .map((j) => j.jid)
    .sort();
}

interface JobDetails {
  jid: string;
  state: string;
  vertices: { name: string; parallelism: number }[];
}

export async function jobDetails(url: string, jid: string): Promise<JobDetails> {
  return (await (await fetch(`${url}/jobs/${jid}`)).json()) as JobDetails;
}

/** What Flink itself says it restored the job from (`latest.restored.external_path`), once it has. */
export async function restoredFrom(url: string, jid: string): Promise<string | undefined> {
  const stats = (await (await fetch(`${url}/jobs/${jid}/checkpoints`)).json()) as {
    latest?: { restored?: { external_path?: string } };
  };
  return stats.latest?.restored?.external_path;
}

/** Waits until Flink has completed a checkpoint of the job: there is state to carry through an upgrade. */
export async function aCompletedCheckpoint(job: { url: string; jid: string }): Promise<void> {
  await eventually(`a completed checkpoint of ${job.jid}`, async () => {
    const stats = (await (await fetch(`${job.url}/jobs/${job.jid}/checkpoints`)).json()) as {
      counts?: { completed?: number };
    };
    return (stats.counts?.completed ?? 0) > 0;
  });
}

/** A savepoint or checkpoint location Flink reported, as a directory on this machine. */
export function snapshotDir(location: string): string {
  return location.replace(/^file:(\/\/)?/, '/').replace(/^\/+/, '/');
}

/**
 * Every lifecycle state the resource passes through, from a `kubectl get -w` stream: a watch delivers every
 * version of the object, so a state that lasts a moment is seen too (polling could miss it).
 */
export async function watchLifecycle(ns: string, name: string): Promise<{ seen: () => string[]; stop: () => void }> {
  const stack = await localStack();
  const child = spawn(
    stack.binaries.kubectl,
    [
      `--kubeconfig=${stack.kubeconfig}`,
      'get',
      'flinkdeployment',
      name,
      '-n',
      ns,
      '-w',
      '-o',
      'jsonpath={.status.lifecycleState}{"\\n"}',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const states: string[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const state of lines.map((l) => l.trim()).filter(Boolean))
      if (states[states.length - 1] !== state) states.push(state);
  });
  return { seen: () => [...states], stop: () => void child.kill() };
}

/** Resolves once an event with `reason` is recorded for the resource (e.g. SpecChanged: the upgrade is under way). */
export async function eventRecorded(ns: string, name: string, reason: string, timeoutMs = 60_000): Promise<void> {
  await eventually(
    `a ${reason} event for ${name}`,
    async () => (await events(ns, name)).some((e) => e.reason === reason),
    timeoutMs,
  );
}

/** True when `expected` appears in `seen` in this order (other states may come between). */
export function inOrder(seen: string[], expected: string[]): boolean {
  let i = 0;
  for (const state of seen) if (state === expected[i]) i++;
  return i === expected.length;
}

/** STABLE again after a spec change: the new generation observed and a job other than `previousJobId` running. */
export async function waitForUpgraded(
  ns: string,
  name: string,
  previousJobId: string | undefined,
  timeoutMs = 180_000,
): Promise<Deployment> {
  return eventually(
    `${ns}/${name} to run its new spec`,
    async () => {
      const d = await getDeployment(ns, name);
      const s = d?.status;
      if (s?.lifecycleState === 'FAILED') throw new Error(`${ns}/${name} FAILED: ${s.error}`);
      const done =
        s?.lifecycleState === 'STABLE' &&
        s.observedGeneration === d!.metadata.generation &&
        s.jobStatus?.state === 'RUNNING' &&
        s.jobStatus.jobId !== previousJobId;
      return done ? d : undefined;
    },
    timeoutMs,
  );
}

/** Exactly one job runs for the resource, counted across every Flink of the stack; its id. */
export async function expectExactlyOneJob(ns: string, name = 'basic-example'): Promise<string> {
  const jobs = (await allRunningJobs()).filter((j) => j.cluster === `${ns}/${name}`);
  expect(jobs, 'exactly one job runs for the resource, across every Flink of the stack').to.have.length(1);
  return jobs[0]!.jid;
}

/** A savepoint deployment, STABLE, then a parallelism change under way (its SpecChanged recorded); the first job. */
export async function upgradeUnderWay(ns: string, name = 'basic-example'): Promise<{ url: string; jid: string }> {
  await apply(ns, statefulDeployment('savepoint', name));
  await waitForLifecycle(ns, name, 'STABLE');
  const first = await runningJob(ns, name);
  await patchSpec(ns, name, { job: { parallelism: 3 } });
  await eventRecorded(ns, name, 'SpecChanged');
  return first;
}
