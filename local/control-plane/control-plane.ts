// A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC, default admission plugins with both
// webhook plugins, audit log), kube-controller-manager, kube-scheduler and kwok with one simulated node.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { httpCall, type HttpAnswer } from '../http.js';
import type { KubeBinaries } from './binaries.js';
import { ensurePki, IDENTITIES, kubeconfigFor, type Identity, type Pki } from './pki.js';
import { freePort, ManagedProcess } from './process.js';

const exec = promisify(execFile);

export interface ControlPlaneOptions {
  stateDir: string;
  binaries: KubeBinaries;
  /** Without the watch cache, watches from an old resourceVersion reach etcd, so a compaction gives a real 410 Gone. */
  watchCache?: boolean;
  /** Simulated nodes (default 1): each offers kwok's 1 Ti of memory, 512 JobManagers of 2 GiB. */
  nodes?: number;
  progress?: (line: string) => void;
}

interface Ports {
  etcd: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
  /** The simulated nodes' kubelet endpoint, served by the Flink runner (a JobManager's log). */
  kubelet: number;
}

export class ControlPlane {
  readonly pki: Pki;
  readonly auditLog: string;
  private ports!: Ports;
  private readonly processes = new Map<string, ManagedProcess>();
  /**
   * When each kube-apiserver start became ready. For a few seconds after, its RBAC authorizer may still refuse what
   * the rules allow (its caches are filling): audit checks of least privilege leave those moments out.
   */
  readonly apiServerReadyAt: number[] = [];
  /** Kubeconfigs name the API server's port, which changes only when the control plane starts. */
  private readonly kubeconfigsWritten = new Set<string>();

  constructor(private readonly options: ControlPlaneOptions) {
    mkdirSync(join(options.stateDir, 'logs'), { recursive: true });
    this.pki = ensurePki(join(options.stateDir, 'pki'));
    this.auditLog = join(options.stateDir, 'logs', 'audit.log');
  }

  get server(): string {
    return `https://127.0.0.1:${this.ports.apiServer}`;
  }

  /** Where the simulated nodes' kubelet endpoint must listen (the API server's pods/log goes there). */
  get kubeletPort(): number {
    return this.ports.kubelet;
  }

  get etcdEndpoint(): string {
    return `http://127.0.0.1:${this.ports.etcd}`;
  }

  /** The path of a kubeconfig for one identity, written the first time it is asked for after each start. */
  kubeconfig(identity: Identity = IDENTITIES.admin): string {
    const file = join(this.options.stateDir, `${identity.name}.kubeconfig`);
    if (!this.kubeconfigsWritten.has(file)) {
      writeFileSync(file, kubeconfigFor(this.pki, identity, this.server), { mode: 0o600 });
      this.kubeconfigsWritten.add(file);
    }
    return file;
  }

  /** Runs the pinned kubectl as admin (or `identity`) and returns its stdout. */
  async kubectl(args: string[], options: { identity?: Identity; input?: string } = {}): Promise<string> {
    const kubeconfig = this.kubeconfig(options.identity);
    const child = exec(this.options.binaries.kubectl, [`--kubeconfig=${kubeconfig}`, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    // A kubectl that exits before reading its input breaks the pipe; its exit status is what reports the failure.
    child.child.stdin!.on('error', () => undefined);
    if (options.input !== undefined) child.child.stdin!.end(options.input);
    return (await child).stdout;
  }

  async start(): Promise<void> {
    const progress = this.options.progress ?? (() => undefined);
    this.kubeconfigsWritten.clear();
    this.ports = {
      etcd: await freePort(),
      etcdPeer: await freePort(),
      apiServer: await freePort(),
      controllerManager: await freePort(),
      scheduler: await freePort(),
      kwok: await freePort(),
      kubelet: await freePort(),
    };
    const dataDir = join(this.options.stateDir, 'etcd');
    rmSync(dataDir, { recursive: true, force: true });
    progress('starting etcd');
    await this.startEtcd(dataDir);
    progress('starting kube-apiserver');
    await this.startApiServer();
    progress('starting kube-controller-manager, kube-scheduler and kwok');
    await Promise.all([this.startControllerManager(), this.startScheduler(), this.startKwok()]);
    const nodes = Array.from({ length: this.options.nodes ?? 1 }, (_, i) => `kwok-node-${i}`);
    await this.kubectl(['apply', '-f', '-'], { input: nodes.map(nodeManifest).join('---\n') });
    for (const node of nodes) {
      await this.waitFor(
        `the kwok node ${node} to be Ready`,
        async () =>
          (await this.kubectl([
            'get',
            'node',
            node,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ])) === 'True',
      );
    }
  }

  private process(name: string, command: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess({ name, command, args, logFile: join(this.options.stateDir, 'logs', `${name}.log`) });
    this.processes.set(name, p);
    p.start();
    return p;
  }

  private async startEtcd(dataDir: string): Promise<void> {
    const { etcd, etcdPeer } = this.ports;
    const p = this.process('etcd', this.options.binaries.etcd, [
      '--name=node0',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${etcd}`,
      `--advertise-client-urls=http://127.0.0.1:${etcd}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=node0=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true', // a throwaway cluster: durability buys nothing here
      '--quota-backend-bytes=8589934592',
      '--log-level=warn',
    ]);
    await p.waitReady(async () => (await get(`${this.etcdEndpoint}/health`)).status === 200);
  }

  private async startApiServer(): Promise<void> {
    const policy = join(this.options.stateDir, 'audit-policy.yaml');
    writeFileSync(policy, AUDIT_POLICY);
    const { pki } = this;
    const p = this.process('kube-apiserver', this.options.binaries['kube-apiserver'], [
      `--etcd-servers=${this.etcdEndpoint}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${this.ports.apiServer}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      '--tls-min-version=VersionTLS12',
      `--client-ca-file=${pki.caCert}`,
      // pods/log reaches the simulated nodes' kubelet endpoint, by the address kwok gives them.
      `--kubelet-certificate-authority=${pki.caCert}`,
      `--kubelet-client-certificate=${pki.clientCert(IDENTITIES.apiServerKubeletClient).cert}`,
      `--kubelet-client-key=${pki.clientCert(IDENTITIES.apiServerKubeletClient).key}`,
      '--kubelet-preferred-address-types=InternalIP',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.0.0.0/16', // room for a thousand clusters' REST Services (benchmarks)
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--endpoint-reconciler-type=none',
      '--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook,PodSecurity',
      `--watch-cache=${this.options.watchCache ?? true}`,
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${this.auditLog}`,
      '--audit-log-format=json',
      // One file for the whole run (its logger rotates at 100 MB by default): tests and benchmarks read it whole.
      '--audit-log-maxsize=100000',
      '--audit-log-mode=batch',
      '--audit-log-batch-max-wait=1s',
      '--profiling=false',
    ]);
    await p.waitReady(async () => (await get(`${this.server}/readyz`, this.pki)).status === 200);
    this.apiServerReadyAt.push(Date.now());
  }

  private async startControllerManager(): Promise<void> {
    const p = this.process('kube-controller-manager', this.options.binaries['kube-controller-manager'], [
      ...this.controllerArgs(IDENTITIES.controllerManager, this.ports.controllerManager),
      `--root-ca-file=${this.pki.caCert}`,
      `--service-account-private-key-file=${this.pki.serviceAccountKey}`,
      '--use-service-account-credentials=true', // each controller acts as its own kube-system account, bound by bootstrap RBAC
      '--concurrent-deployment-syncs=20',
      '--concurrent-replicaset-syncs=20',
      '--concurrent-gc-syncs=40',
    ]);
    await p.waitReady(
      async () => (await get(`https://127.0.0.1:${this.ports.controllerManager}/healthz`)).status === 200,
    );
  }

  private async startScheduler(): Promise<void> {
    const p = this.process(
      'kube-scheduler',
      this.options.binaries['kube-scheduler'],
      this.controllerArgs(IDENTITIES.scheduler, this.ports.scheduler),
    );
    await p.waitReady(async () => (await get(`https://127.0.0.1:${this.ports.scheduler}/healthz`)).status === 200);
  }

  /** What the controller manager and the scheduler share: their identity, a loopback health port, one instance. */
  private controllerArgs(identity: Identity, port: number): string[] {
    const kubeconfig = this.kubeconfig(identity);
    return [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      '--leader-elect=false',
      // Benchmarks create thousands of objects; the default 20 QPS would make the cluster the bottleneck.
      '--kube-api-qps=200',
      '--kube-api-burst=400',
    ];
  }

  private async startKwok(): Promise<void> {
    const p = this.process('kwok', this.options.binaries.kwok, [
      `--kubeconfig=${this.kubeconfig(IDENTITIES.kwok)}`,
      `--config=${this.options.binaries.kwokStages}`,
      '--manage-all-nodes=true',
      '--node-ip=127.0.0.1',
      `--node-port=${this.ports.kubelet}`,
      `--server-address=127.0.0.1:${this.ports.kwok}`,
      '--node-lease-duration-seconds=40',
    ]);
    await p.waitReady(async () => (await get(`http://127.0.0.1:${this.ports.kwok}/healthz`)).status === 200);
  }

  /** Stops and starts kube-apiserver on the same port, as an upgrade or a crash would; `whileDown` runs in between. */
  async restartApiServer(whileDown?: () => Promise<void>): Promise<void> {
    await this.processes.get('kube-apiserver')?.stop();
    await whileDown?.();
    await this.startApiServer();
  }

  /**
   * Moves etcd's revision past every resourceVersion clients hold (writes outside the registry) and compacts there: a
   * watch resumed from any earlier resourceVersion then gets 410 Gone, as after a long disconnect. Two writes, not one:
   * a watch from resourceVersion X starts at revision X + 1, so a client that had seen everything (X + 1 is the first
   * write's revision) would resume undisturbed were the compaction at that first write.
   */
  async compactEtcd(): Promise<void> {
    const key = Buffer.from('/flink-operator-ts/compaction-marker').toString('base64');
    let revision = '';
    for (const step of ['before', 'after']) {
      const value = Buffer.from(`${step} ${Date.now()}`).toString('base64');
      const put = JSON.parse((await post(`${this.etcdEndpoint}/v3/kv/put`, { key, value })).body) as {
        header: { revision: string };
      };
      revision = put.header.revision;
    }
    await post(`${this.etcdEndpoint}/v3/kv/compaction`, { revision, physical: true });
  }

  processIds(): Record<string, number | undefined> {
    return Object.fromEntries([...this.processes].map(([name, p]) => [name, p.pid]));
  }

  async stop(): Promise<void> {
    // Clients first, etcd last, so nothing logs a storm of connection errors on the way down.
    for (const name of ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'])
      await this.processes.get(name)?.stop(5000);
  }

  async waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
  }
}

/** Every request at Metadata level: who did what to which object, never the bodies (Secrets stay out). */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`;

function nodeManifest(name: string): string {
  return `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: ${name}
    kubernetes.io/os: linux
    type: kwok
`;
}

/** A GET that trusts the cluster CA and presents the admin certificate when `pki` is given, else skips verification (component health). */
function get(url: string, pki?: Pki): Promise<HttpAnswer> {
  const admin = pki?.clientCert(IDENTITIES.admin);
  return httpCall(url, {
    tls:
      pki && admin
        ? { ca: readFileSync(pki.caCert), cert: readFileSync(admin.cert), key: readFileSync(admin.key) }
        : { rejectUnauthorized: false },
  });
}

async function post(url: string, json: unknown): Promise<HttpAnswer> {
  const answer = await httpCall(url, { json, timeoutMs: 5000 });
  if (answer.status !== 200) throw new Error(`${url}: ${answer.status} ${answer.body}`);
  return answer;
}
