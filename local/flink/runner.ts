// The kubelet side of a JobManager pod in the local stack: for every pod labelled component=jobmanager that is
// scheduled and not being deleted, a real Flink (its configuration from the pod's flink-config-<app> ConfigMap);
// for every pod gone, its JVM stopped; a JVM that exits by itself is a crashed container (the pod's status says so,
// as the kubelet's would, and it is restarted after the kubelet's back-off). Where each <app>-rest.<namespace>:8081
// really listens is published in the flink-rest-overrides file ({"<namespace>/<app>": "http://127.0.0.1:<port>"})
// the operator reads: a thin proxy that maps the pod's file-system paths in REST requests (pod-filesystem.ts), in
// front of the real Flink.
import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1Container,
  type V1ContainerStatus,
  type V1Pod,
} from '@kubernetes/client-node';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitedDuringStartup, freePort } from '../control-plane/process.js';
import { MAIN_CONTAINER } from '../../api/cluster/objects.js';
import { startFlinkCluster, type FlinkCluster } from './cluster.js';
import { localFlinkConfig, readFlatFlinkConfig, writeFlatFlinkConfig } from './local-config.js';
import { startPodFilesystemProxy, type PodFilesystemProxy } from './pod-filesystem.js';
import type { FlinkRunnerBuild } from './runner-build.js';
import { limitLog, type ContainerLog } from './kubelet-logs.js';
import { isHighAvailabilityEnabled } from '../../api/flink-config.js';

export interface RunnerOptions {
  api: CoreV1Api;
  /** The API server as a pod reaches it (its address and CA), for Flink's own Kubernetes HA services. */
  apiServer: { server: string; caData: string };
  /** One per Flink line, the default line's first: it runs a configuration that names no Flink version. */
  builds: readonly FlinkRunnerBuild[];
  stateDir: string;
  overridesFile: string;
  log: (line: string) => void;
  pollMs?: number;
}

interface Running {
  key: string;
  pod: V1Pod;
  cluster: FlinkCluster | undefined;
  /** The address published for the pod: the real Flink behind the pod file-system proxy. */
  proxy?: PodFilesystemProxy;
  starting: Promise<void>;
  /** Its pod is gone: no longer published, while the JVM shuts down. */
  stopping?: boolean;
  /** Its JVM exited by itself, as a container that crashed: restarted (a new JVM) once its back-off has passed. */
  crashed?: { restartAt: number };
  /** Where this run's lines of the pod's log begin (the log is appended to across restarts). */
  logStart: number;
  /** No Flink of the pod's version runs here: shown as an image that cannot be pulled, and not tried again. */
  refused?: boolean;
}

/** A pod whose configuration names a Flink version no local line runs. */
class NoFlinkForVersion extends Error {}

/** The kubelet's crash-loop back-off: 10 s, doubled on every restart, at most five minutes. */
const crashBackOffMs = (restarts: number) => Math.min(10_000 * 2 ** Math.max(0, restarts - 1), 300_000);
export class FlinkRunner {
  private readonly running = new Map<string, Running>();
  /** A pod's container restarts so far, as its status counts them, and where the last run's log lines are. */
  private readonly crashes = new Map<string, { restarts: number; lastRun: { from: number; to: number } }>();
  private readonly stopping = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: RunnerOptions) {
    this.writeOverrides();
  }

  start(): void {
    const tick = () => {
      this.syncing = this.sync().catch((err: unknown) =>
        this.options.log(`flink-runner: sync failed: ${(err as Error).message}`),
      );
      void this.syncing.then(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.pollMs ?? 250);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** The local Flink of a JobManager pod's cluster, once it answers. */
  cluster(namespace: string, app: string): FlinkCluster | undefined {
    return this.entry(namespace, app)?.cluster;
  }

  /** The address published for a cluster's REST API (closing it cuts the operator off from a Flink that runs on). */
  restProxy(namespace: string, app: string): PodFilesystemProxy | undefined {
    return this.entry(namespace, app)?.proxy;
  }

  private entry(namespace: string, app: string): Running | undefined {
    return [...this.running.values()].find((r) => r.key.startsWith(`${namespace}/${app}/`));
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.syncing;
    await Promise.all([...this.stopping]);
    await Promise.all([...this.running.keys()].map((key) => this.stopOne(key)));
  }

  private async sync(): Promise<void> {
    const pods = (await this.options.api.listPodForAllNamespaces({ labelSelector: 'component=jobmanager' })).items;
    const wanted = new Map(pods.filter(isRunnable).map((pod) => [podKey(pod), pod]));
    const gone = [...this.running.values()].filter((r) => !wanted.has(r.key) && !r.stopping).map((r) => r.key);
    // Every address of a pod that went is withdrawn at once; its JVM stops in the background (new pods need not wait).
    for (const key of gone) this.running.get(key)!.stopping = true;
    if (gone.length > 0) this.writeOverrides();
    for (const key of gone) {
      const stopped = this.stopOne(key).finally(() => this.stopping.delete(stopped));
      this.stopping.add(stopped);
    }
    for (const key of this.crashes.keys()) if (!wanted.has(key)) this.crashes.delete(key);
    for (const entry of this.running.values()) {
      const pod = wanted.get(entry.key);
      if (pod && entry.cluster && !entry.stopping && !entry.crashed && !entry.cluster.process.running()) {
        await this.crashed(entry, pod, entry.cluster.process.exitCode() ?? 1);
      }
      if (entry.crashed && Date.now() >= entry.crashed.restartAt) this.running.delete(entry.key);
    }
    for (const [key, pod] of wanted) if (!this.running.has(key)) this.startOne(key, pod);
  }

  private startOne(key: string, pod: V1Pod): void {
    const entry: Running = { key, pod, cluster: undefined, starting: Promise.resolve(), logStart: 0 };
    entry.starting = this.launch(entry, pod).then(
      async (cluster) => {
        entry.cluster = cluster;
        entry.proxy = await startPodFilesystemProxy(cluster.restUrl, this.filesRoot);
        if (!entry.stopping) this.writeOverrides();
        const crash = this.crashes.get(key);
        if (crash) await this.patchContainer(pod, containerRunning(pod, crash.restarts));
        this.options.log(`flink-runner: ${key} → Flink REST ${cluster.restUrl}`);
      },
      async (err: unknown) => {
        this.options.log(`flink-runner: ${key} did not start: ${(err as Error).message.split('\n')[0]}`);
        if (err instanceof ExitedDuringStartup) return this.crashed(entry, pod, err.exitCode);
        if (err instanceof NoFlinkForVersion) {
          entry.refused = true;
          return this.patchContainer(pod, containerWaiting(pod, 'ErrImagePull', err.message));
        }
        this.running.delete(key); // tried again on the next sync, e.g. once its ConfigMap exists
      },
    );
    this.running.set(key, entry);
  }

  /**
   * A JVM that exited by itself, shown as the kubelet shows a crashed container: its address withdrawn, the pod not
   * Ready, the container waiting in CrashLoopBackOff with its last termination (exit code, log tail) — then restarted.
   */
  private async crashed(entry: Running, pod: V1Pod, exitCode: number): Promise<void> {
    const logFile = join(podDir(this.options.stateDir, pod), 'flink.log');
    const lastRun = { from: entry.logStart, to: existsSync(logFile) ? statSync(logFile).size : 0 };
    const restarts = (this.crashes.get(entry.key)?.restarts ?? 0) + 1;
    this.crashes.set(entry.key, { restarts, lastRun });
    entry.crashed = { restartAt: Date.now() + crashBackOffMs(restarts) };
    this.writeOverrides();
    await entry.proxy?.close();
    entry.proxy = undefined;
    const message = terminationMessage(readLog(logFile, lastRun.from, lastRun.to));
    this.options.log(
      `flink-runner: ${entry.key} exited with code ${exitCode}; restarting in ${crashBackOffMs(restarts) / 1000} s`,
    );
    await this.patchContainer(
      pod,
      containerCrashLooping(pod, restarts, crashBackOffMs(restarts), { exitCode, message }),
    );
  }

  /** A JobManager container's log as the kubelet serves it: this run's, or (`previous`, or crashed) the last run's. */
  containerLog(namespace: string, podName: string, container: string, previous: boolean): ContainerLog {
    const entry = [...this.running.values()].find(
      (r) => r.pod.metadata!.namespace === namespace && r.pod.metadata!.name === podName,
    );
    if (!entry) return { error: `pod "${podName}" in namespace "${namespace}" is not running on this node` };
    if (container !== mainContainer(entry.pod).name)
      return { error: `container ${container} is not valid for pod ${podName}` };
    const logFile = join(podDir(this.options.stateDir, entry.pod), 'flink.log');
    const crash = this.crashes.get(entry.key);
    if (!previous && !entry.crashed) return { text: readLog(logFile, entry.logStart) };
    if (!crash) return { error: `previous terminated container "${container}" in pod "${podName}" not found` };
    return { text: readLog(logFile, crash.lastRun.from, crash.lastRun.to) };
  }

  /** The pod's status as the kubelet would write it (a pod deleted meanwhile is no error). */
  private async patchContainer(pod: V1Pod, status: V1ContainerStatus): Promise<void> {
    await this.writeContainerStatus(pod, status).catch((err: unknown) =>
      this.options.log(
        `flink-runner: pod status of ${podKey(pod)} not written: ${(err as Error).message.split('\n')[0]}`,
      ),
    );
  }

  private async writeContainerStatus(pod: V1Pod, status: V1ContainerStatus): Promise<void> {
    const { name, namespace } = pod.metadata!;
    const current = await this.options.api.readNamespacedPodStatus({ name: name!, namespace: namespace! });
    const now = new Date();
    const conditions = (current.status?.conditions ?? []).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady'
        ? { ...c, status: status.ready ? 'True' : 'False', lastTransitionTime: now }
        : c,
    );
    const others = (current.status?.containerStatuses ?? []).filter((c) => c.name !== status.name);
    await this.options.api.patchNamespacedPodStatus(
      { name: name!, namespace: namespace!, body: { status: { conditions, containerStatuses: [status, ...others] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private async launch(entry: Running, pod: V1Pod): Promise<FlinkCluster> {
    const { file, config: podConfig } = await readPodFlinkConfig(this.options.api, pod);
    const build = this.buildFor(podConfig['$internal.flink.version']);
    const dir = podDir(this.options.stateDir, pod);
    mkdirSync(join(dir, 'conf'), { recursive: true });
    const config = localFlinkConfig(podConfig, {
      ...(isHighAvailabilityEnabled(podConfig)
        ? { kubeconfig: await this.serviceAccountKubeconfig(pod, join(dir, 'conf')) }
        : {}),
      ports: { rest: await freePort(), rpc: await freePort() },
      filesRoot: this.filesRoot,
      examplesJar: build.examplesJar,
      autoscalingJar: build.autoscalingJar,
    });
    writeFileSync(join(dir, 'conf', file), writeFlatFlinkConfig(config));
    const logFile = join(dir, 'flink.log');
    entry.logStart = existsSync(logFile) ? statSync(logFile).size : 0;
    this.options.log(`flink-runner: ${entry.key} runs Flink ${build.flinkVersion}`);
    return startFlinkCluster(build, { name: `flink ${entry.key}`, confDir: join(dir, 'conf'), logFile });
  }

  /**
   * The Flink of the version the operator wrote into the pod's configuration (`$internal.flink.version`, as upstream
   * does), as the image would bring it; never another line's.
   */
  private buildFor(flinkVersion: string | undefined): FlinkRunnerBuild {
    const { builds } = this.options;
    if (flinkVersion === undefined) return builds[0]!;
    const build = builds.find((b) => b.runs.includes(flinkVersion));
    if (build) return build;
    const lines = builds.map((b) => `${b.flinkVersion} (${b.runs.join(', ')})`).join(', ');
    throw new NoFlinkForVersion(
      `no local Flink runs flinkVersion ${flinkVersion}: this stack runs Flink ${lines}; use one of those versions`,
    );
  }

  /**
   * What the kubelet mounts into a pod for its ServiceAccount, as a kubeconfig Flink reads: a token bound to the pod
   * (it stops working when the pod goes), the API server's address and CA.
   */
  private async serviceAccountKubeconfig(pod: V1Pod, dir: string): Promise<string> {
    const { namespace, name, uid } = pod.metadata!;
    const account = pod.spec?.serviceAccountName ?? 'default';
    const request = await this.options.api.createNamespacedServiceAccountToken({
      name: account,
      namespace: namespace!,
      body: {
        spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid } },
      },
    });
    const file = join(dir, 'kubeconfig');
    const { server, caData } = this.options.apiServer;
    writeFileSync(file, podKubeconfig(server, caData, namespace!, request.status!.token), { mode: 0o600 });
    return file;
  }

  private get filesRoot(): string {
    return join(this.options.stateDir, 'files');
  }

  private async stopOne(key: string): Promise<void> {
    const entry = this.running.get(key);
    if (!entry) return;
    // As a Service drops a deleted pod from its endpoints at once: the address goes before the JVM's graceful stop.
    entry.stopping = true;
    this.writeOverrides();
    await entry.starting;
    await entry.proxy?.close();
    await entry.cluster?.process.stop(8000);
    this.running.delete(key);
    this.writeOverrides();
    this.options.log(`flink-runner: ${key} stopped`);
  }

  private writeOverrides(): void {
    const overrides: Record<string, string> = {};
    for (const { key, proxy, stopping, crashed } of this.running.values()) {
      const [namespace, app] = key.split('/');
      if (proxy && !stopping && !crashed) overrides[`${namespace}/${app}`] = proxy.url;
    }
    publishRestAddresses(this.options.overridesFile, overrides);
  }
}

/** The REST-address file the operator reads, replaced atomically: readers never see half a file. */
export function publishRestAddresses(file: string, addresses: Record<string, string>): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(addresses, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/**
 * A JobManager pod's Flink configuration: its `flink-config-<app>` ConfigMap's `config.yaml`, else `flink-conf.yaml`
 * (the file the operator writes for Flink before 2.0), and which file it was.
 */
export async function readPodFlinkConfig(
  api: CoreV1Api,
  pod: V1Pod,
): Promise<{ file: 'config.yaml' | 'flink-conf.yaml'; config: Record<string, string> }> {
  const app = pod.metadata!.labels!.app!;
  const configMap = await api.readNamespacedConfigMap({
    name: `flink-config-${app}`,
    namespace: pod.metadata!.namespace!,
  });
  const file = configMap.data?.['config.yaml'] !== undefined ? 'config.yaml' : 'flink-conf.yaml';
  const text = configMap.data?.[file];
  if (text === undefined) throw new Error(`ConfigMap flink-config-${app} has neither config.yaml nor flink-conf.yaml`);
  return { file, config: readFlatFlinkConfig(text) };
}

function podKubeconfig(server: string, caData: string, namespace: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'in-cluster', cluster: { server, 'certificate-authority-data': caData } }],
    users: [{ name: 'pod', user: { token } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: 'pod', namespace } }],
    'current-context': 'in-cluster',
  });
}

function podDir(stateDir: string, pod: V1Pod): string {
  return join(stateDir, 'flink', pod.metadata!.namespace!, pod.metadata!.name!);
}

/** The main container, as the kubelet reports one it cannot start (e.g. ErrImagePull, with why). */
function containerWaiting(pod: V1Pod, reason: string, message: string): V1ContainerStatus {
  return { ...mainContainerStatus(pod, 0, false), started: false, state: { waiting: { reason, message } } };
}

/** The main container (Flink's, else the first), as the kubelet reports it running again after a restart. */
function containerRunning(pod: V1Pod, restartCount: number): V1ContainerStatus {
  return {
    ...mainContainerStatus(pod, restartCount, true),
    started: true,
    state: { running: { startedAt: new Date() } },
  };
}

function containerCrashLooping(
  pod: V1Pod,
  restartCount: number,
  backOffMs: number,
  last: { exitCode: number; message: string },
): V1ContainerStatus {
  const base = mainContainerStatus(pod, restartCount, false);
  const { name, namespace, uid } = pod.metadata!;
  const now = new Date();
  return {
    ...base,
    started: false,
    state: {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${backOffMs / 1000}s restarting failed container=${base.name} pod=${name}_${namespace}(${uid})`,
      },
    },
    lastState: {
      terminated: {
        exitCode: last.exitCode,
        reason: 'Error',
        startedAt: now,
        finishedAt: now,
        ...(last.message ? { message: last.message } : {}),
      },
    },
  };
}

function mainContainerStatus(pod: V1Pod, restartCount: number, ready: boolean): V1ContainerStatus {
  const container = mainContainer(pod);
  return { name: container.name, image: container.image ?? '', imageID: '', ready, restartCount };
}

function mainContainer(pod: V1Pod): V1Container {
  const containers = pod.spec?.containers ?? [];
  return containers.find((c) => c.name === MAIN_CONTAINER) ?? containers[0]!;
}

/**
 * A termination message as the kubelet writes it for FallbackToLogsOnError: the last 80 lines of the container's
 * log, at most 2,048 bytes of them (the pod's policy is not read: the operator sets it on every Flink container).
 */
function terminationMessage(log: string): string {
  const bytes = Buffer.from(limitLog(log.trimEnd(), 80));
  return bytes.subarray(Math.max(0, bytes.length - 2048)).toString('utf8');
}

/** Bytes [from, to) of a log file (to its end without `to`), at most its last 4 MiB. */
function readLog(file: string, from: number, to?: number): string {
  if (!existsSync(file)) return '';
  const end = to ?? statSync(file).size;
  const start = Math.max(from, end - 4 * 2 ** 20);
  const buffer = Buffer.alloc(Math.max(0, end - start));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

/** `<namespace>/<app>/<pod uid>`: a replaced pod is a new Flink. */
function podKey(pod: V1Pod): string {
  return `${pod.metadata!.namespace}/${pod.metadata!.labels?.app}/${pod.metadata!.uid}`;
}

/** Scheduled, not being deleted, not finished: a pod whose Flink should run. */
export function isRunnable(pod: V1Pod): boolean {
  return (
    Boolean(pod.spec?.nodeName) &&
    !pod.metadata?.deletionTimestamp &&
    Boolean(pod.metadata?.labels?.app) &&
    pod.status?.phase !== 'Succeeded' &&
    pod.status?.phase !== 'Failed'
  );
}
