// The kubelet side of a JobManager pod in the local stack: for every pod labelled component=jobmanager that is
// scheduled and not being deleted, a real Flink (its configuration from the pod's flink-config-<app> ConfigMap);
// for every pod gone, its JVM stopped. Where each <app>-rest.<namespace>:8081 really listens is published in the
// flink-rest-overrides file ({"<namespace>/<app>": "http://127.0.0.1:<port>"}) the operator reads: a thin proxy
// that maps the pod's file-system paths in REST requests (pod-filesystem.ts), in front of the real Flink.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../control-plane/process.js';
import { startFlinkCluster, type FlinkCluster } from './cluster.js';
import { localFlinkConfig, readFlatFlinkConfig, writeFlatFlinkConfig } from './local-config.js';
import { startPodFilesystemProxy, type PodFilesystemProxy } from './pod-filesystem.js';
import type { FlinkRunnerBuild } from './runner-build.js';
import { isHighAvailabilityEnabled } from '../../api/flink-config.js';

export interface RunnerOptions {
  api: CoreV1Api;
  /** The API server as a pod reaches it (its address and CA), for Flink's own Kubernetes HA services. */
  apiServer: { server: string; caData: string };
  build: FlinkRunnerBuild;
  stateDir: string;
  overridesFile: string;
  log: (line: string) => void;
  pollMs?: number;
}

interface Running {
  key: string;
  cluster: FlinkCluster | undefined;
  /** The address published for the pod: the real Flink behind the pod file-system proxy. */
  proxy?: PodFilesystemProxy;
  starting: Promise<void>;
  /** Its pod is gone: no longer published, while the JVM shuts down. */
  stopping?: boolean;
}

export class FlinkRunner {
  private readonly running = new Map<string, Running>();
  private readonly stopping = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: RunnerOptions) {
    this.writeOverrides();
  }

  start(): void {
    const tick = () => {
      this.syncing = this.sync().catch((err: unknown) => this.options.log(`flink-runner: sync failed: ${(err as Error).message}`));
      void this.syncing.then(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.pollMs ?? 250);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** The local Flink of a JobManager pod's cluster, once it answers. */
  cluster(namespace: string, app: string): FlinkCluster | undefined {
    return [...this.running.values()].find((r) => r.key.startsWith(`${namespace}/${app}/`))?.cluster;
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
    for (const [key, pod] of wanted) if (!this.running.has(key)) this.startOne(key, pod);
  }

  private startOne(key: string, pod: V1Pod): void {
    const entry: Running = { key, cluster: undefined, starting: Promise.resolve() };
    entry.starting = this.launch(key, pod).then(
      async (cluster) => {
        entry.cluster = cluster;
        entry.proxy = await startPodFilesystemProxy(cluster.restUrl, this.filesRoot);
        if (!entry.stopping) this.writeOverrides();
        this.options.log(`flink-runner: ${key} → Flink REST ${cluster.restUrl}`);
      },
      (err: unknown) => {
        this.options.log(`flink-runner: ${key} did not start: ${(err as Error).message.split('\n')[0]}`);
        this.running.delete(key); // tried again on the next sync, e.g. once its ConfigMap exists
      },
    );
    this.running.set(key, entry);
  }

  private async launch(key: string, pod: V1Pod): Promise<FlinkCluster> {
    const namespace = pod.metadata!.namespace!;
    const podConfig = await readPodFlinkConfig(this.options.api, pod);
    const dir = join(this.options.stateDir, 'flink', namespace, pod.metadata!.name!);
    mkdirSync(join(dir, 'conf'), { recursive: true });
    const config = localFlinkConfig(podConfig, {
      ...(isHighAvailabilityEnabled(podConfig) ? { kubeconfig: await this.serviceAccountKubeconfig(pod, join(dir, 'conf')) } : {}),
      ports: { rest: await freePort(), rpc: await freePort() },
      filesRoot: this.filesRoot,
      examplesJar: this.options.build.examplesJar,
    });
    writeFileSync(join(dir, 'conf', 'config.yaml'), writeFlatFlinkConfig(config));
    return startFlinkCluster(this.options.build, { name: `flink ${key}`, confDir: join(dir, 'conf'), logFile: join(dir, 'flink.log') });
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
      body: { spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid } } },
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
    for (const { key, proxy, stopping } of this.running.values()) {
      const [namespace, app] = key.split('/');
      if (proxy && !stopping) overrides[`${namespace}/${app}`] = proxy.url;
    }
    publishRestAddresses(this.options.overridesFile, overrides);
  }
}

/** The REST-address file the operator reads, replaced atomically: readers never see half a file. */
export function publishRestAddresses(file: string, addresses: Record<string, string>): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(addresses, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** A JobManager pod's Flink configuration: its `flink-config-<app>` ConfigMap, `config.yaml` else `flink-conf.yaml`. */
export async function readPodFlinkConfig(api: CoreV1Api, pod: V1Pod): Promise<Record<string, string>> {
  const app = pod.metadata!.labels!.app!;
  const configMap = await api.readNamespacedConfigMap({ name: `flink-config-${app}`, namespace: pod.metadata!.namespace! });
  const text = configMap.data?.['config.yaml'] ?? configMap.data?.['flink-conf.yaml'];
  if (text === undefined) throw new Error(`ConfigMap flink-config-${app} has neither config.yaml nor flink-conf.yaml`);
  return readFlatFlinkConfig(text);
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

/** `<namespace>/<app>/<pod uid>`: a replaced pod is a new Flink. */
function podKey(pod: V1Pod): string {
  return `${pod.metadata!.namespace}/${pod.metadata!.labels?.app}/${pod.metadata!.uid}`;
}

/** Scheduled, not being deleted, not finished: a pod whose Flink should run. */
export function isRunnable(pod: V1Pod): boolean {
  return Boolean(pod.spec?.nodeName) && !pod.metadata?.deletionTimestamp && Boolean(pod.metadata?.labels?.app) && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}
