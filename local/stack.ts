// The local stack: the control plane, our CRDs, the chart's RBAC bound to the webhook's and the operator's own
// users, and the webhook registered with `url` + `caBundle` so every kubectl apply crosses the real admission chain.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KINDS } from '../api/schema/crd.js';
import { issueCertificates } from '../webhook/certs.js';
import { ensureKubeBinaries, type KubeBinaries } from './control-plane/binaries.js';
import { ControlPlane } from './control-plane/control-plane.js';
import { IDENTITIES, LOCAL_OPERATOR_NAMESPACE, type Identity } from './control-plane/pki.js';
import { freePort, ManagedProcess } from './control-plane/process.js';
import { FlinkRunner } from './flink/runner.js';
import { startKubeletLogServer } from './flink/kubelet-logs.js';
import { startArtifactHost, type ArtifactHost } from './artifact-host.js';
import { httpCall } from './http.js';
import { ensureFlinkRunners, pinnedFlinkVersion } from './flink/runner-build.js';
import { FlinkRestStandIn, standInForPods } from './flink/stand-in.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chartDir = join(repoRoot, 'charts/flink-operator-ts');

export interface StackOptions {
  stateDir: string;
  watchCache?: boolean;
  /** Simulated nodes (default 1). */
  nodes?: number;
  /** Scale benchmarks only: an in-memory Flink REST stand-in behind JobManager pods instead of real Flink JVMs. */
  flinkStandIn?: boolean;
  /** Benchmarks: run the operator and the webhook from these bundles with the chart's node flags, as the image does. */
  bundleDir?: string;
  progress?: (line: string) => void;
}

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

type RbacRules = Record<
  'webhook' | 'operator' | 'operatorLease' | 'operatorArtifactCredentials' | 'flink',
  PolicyRule[]
>;
let rbacRules: RbacRules | undefined;

/** The node flags the chart's Deployment gives the container that runs the bundle `entry` (e.g. flink-webhook.mjs). */
export function chartNodeFlags(entry: string): string[] {
  const deployment = readFileSync(join(chartDir, 'templates/deployment.yaml'), 'utf8');
  const command = new RegExp(`command: \\[/usr/local/bin/node, (.*)/opt/flink-operator-ts/${entry}\\]`).exec(
    deployment,
  );
  if (!command) throw new Error(`the chart runs no container with ${entry}`);
  return command[1]!
    .split(',')
    .map((flag) => flag.trim())
    .filter(Boolean);
}

/**
 * The environment the image gives its processes (its Containerfile's ENV, but PATH): running a bundle "as the image
 * does" outside a container takes these with the chart's node flags.
 */
export function imageEnvironment(): Record<string, string> {
  const containerfile = readFileSync(join(repoRoot, 'image/Containerfile'), 'utf8');
  const pairs = [...containerfile.matchAll(/^ENV (.+)$/gm)].flatMap((line) => line[1]!.trim().split(/\s+/));
  return Object.fromEntries(
    pairs
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])
      .filter(([key]) => key !== 'PATH'),
  );
}

/** The chart's RBAC rules, defined once in its files (read once: every namespace a test makes needs them). */
export function chartRbacRules(): RbacRules {
  rbacRules ??= parse(readFileSync(join(chartDir, 'files/rbac-rules.yaml'), 'utf8')) as RbacRules;
  return rbacRules;
}

export class LocalStack {
  readonly controlPlane: ControlPlane;
  private webhook: ManagedProcess | undefined;
  private webhookPort = 0;
  /** flink-operator processes by name: `operator`, and any a test starts beside it. */
  private readonly operators = new Map<string, ManagedProcess>();
  /** Real Flink behind every JobManager pod on the node. */
  flinkRunner: FlinkRunner | undefined;
  private stopStandIn: (() => Promise<void>) | undefined;
  /** The node's kubelet endpoint for pods/log, serving the runner's JobManager logs. */
  private kubeletLogs: { close(): Promise<void> } | undefined;
  /** artifacts.example.com for the upstream session-job examples, behind a CONNECT proxy. */
  artifactHost: ArtifactHost | undefined;

  private constructor(
    private readonly options: StackOptions,
    readonly binaries: KubeBinaries,
  ) {
    this.controlPlane = new ControlPlane({
      stateDir: options.stateDir,
      binaries,
      watchCache: options.watchCache,
      nodes: options.nodes,
      progress: options.progress,
    });
  }

  static async start(options: StackOptions): Promise<LocalStack> {
    mkdirSync(options.stateDir, { recursive: true });
    const binaries = await ensureKubeBinaries(
      join(repoRoot, 'local/kube-binaries'),
      options.progress ?? (() => undefined),
    );
    const stack = new LocalStack(options, binaries);
    try {
      await stack.controlPlane.start();
      stack.progress('installing the CRDs, RBAC and the admission webhook');
      await stack.installCrds();
      await stack.installOperatorRbac();
      stack.webhookPort = await freePort();
      await stack.startWebhook();
      await stack.registerWebhook();
      await stack.startFlinkRunner();
      await stack.startOperator();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  /** How a component runs: its bundle as the image and the chart run it (benchmarks), or the development build. */
  private entry(bundle: string, development: string): { args: string[]; env: Record<string, string> } {
    const dir = this.options.bundleDir;
    return dir
      ? { args: [...chartNodeFlags(bundle), join(dir, bundle)], env: imageEnvironment() }
      : { args: [join(repoRoot, development)], env: {} };
  }

  private progress(line: string): void {
    this.options.progress?.(line);
  }

  /** The admin kubeconfig. */
  get kubeconfig(): string {
    return this.controlPlane.kubeconfig();
  }

  /**
   * The folder a user puts first on PATH (npm start prints it): the stack's kubectl and, beside it, the kubectl-flink
   * plugin of this checkout's build, so `kubectl flink …` works as after a krew install, on the Node the stack runs on.
   */
  userBinDir(): string {
    const dir = join(this.options.stateDir, 'bin');
    mkdirSync(dir, { recursive: true });
    for (const [name, target] of [
      ['kubectl', this.binaries.kubectl],
      ['kubectl-flink', join(repoRoot, 'dist/kubectl-flink.mjs')],
      ['node', process.execPath],
    ] as const) {
      const link = join(dir, name);
      rmSync(link, { force: true });
      symlinkSync(target, link);
    }
    return dir;
  }

  kubectl(args: string[], options: { identity?: Identity; input?: string } = {}): Promise<string> {
    return this.controlPlane.kubectl(args, options);
  }

  private async installCrds(): Promise<void> {
    await this.kubectl([
      'apply',
      '--server-side',
      '--field-manager=flink-operator-ts-local',
      '-f',
      join(chartDir, 'crds'),
    ]);
    for (const kind of KINDS) {
      const established = `{.status.conditions[?(@.type=="Established")].status}`;
      await this.controlPlane.waitFor(
        `CRD ${kind.plural} to be established`,
        async () =>
          (await this.kubectl(['get', `crd/${kind.plural}.flink.apache.org`, '-o', `jsonpath=${established}`])) ===
          'True',
      );
    }
  }

  /** The chart's rules bound to each identity: cluster-wide (the stack watches every namespace), the Lease rule in the operator's namespace. */
  private async installOperatorRbac(): Promise<void> {
    const rules = chartRbacRules();
    const docs: unknown[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LOCAL_OPERATOR_NAMESPACE } }];
    const bind = (kind: 'ClusterRole' | 'Role', name: string, identity: Identity, roleRules: PolicyRule[]) => {
      const namespace = kind === 'Role' ? { namespace: LOCAL_OPERATOR_NAMESPACE } : {};
      docs.push(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, ...namespace }, rules: roleRules },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: `${kind}Binding`,
          metadata: { name, ...namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name },
          subjects: [{ kind: 'ServiceAccount', name: identity.name, namespace: LOCAL_OPERATOR_NAMESPACE }],
        },
      );
    };
    for (const identity of [IDENTITIES.webhook, IDENTITIES.operator]) {
      docs.push({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: identity.name, namespace: LOCAL_OPERATOR_NAMESPACE },
      });
    }
    bind('ClusterRole', 'flink-operator-ts-webhook', IDENTITIES.webhook, rules.webhook);
    bind('ClusterRole', 'flink-operator-ts-operator', IDENTITIES.operator, rules.operator);
    bind('Role', 'flink-operator-ts-operator-lease', IDENTITIES.operator, rules.operatorLease);
    bind(
      'Role',
      'flink-operator-ts-operator-artifact-credentials',
      IDENTITIES.operator,
      rules.operatorArtifactCredentials,
    );
    await this.apply(docs);
  }

  /** A namespace with the `flink` ServiceAccount and its Role, as the chart gives every watched namespace. */
  async createNamespace(name: string): Promise<void> {
    await this.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'flink', namespace: name } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'flink', namespace: name },
        rules: chartRbacRules().flink,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'flink', namespace: name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'flink' },
        subjects: [{ kind: 'ServiceAccount', name: 'flink', namespace: name }],
      },
    ]);
  }

  async apply(docs: unknown[]): Promise<void> {
    await this.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }),
    });
  }

  private webhookCertDir(): string {
    return join(this.options.stateDir, 'webhook-certs');
  }

  /** Starts the webhook; `config`: an operator configuration for it (a test's allowed jar schemes). */
  async startWebhook(options: { config?: Record<string, string> } = {}): Promise<void> {
    const configFile = join(this.options.stateDir, 'flink-webhook.yaml');
    if (options.config)
      writeFileSync(
        configFile,
        Object.entries(options.config)
          .map(([key, value]) => `${key}: ${value}\n`)
          .join(''),
      );
    const certDir = this.webhookCertDir();
    mkdirSync(certDir, { recursive: true });
    if (!existsSync(join(certDir, 'tls.crt'))) {
      const { ca, serving } = issueCertificates(['127.0.0.1', 'localhost'], 365);
      writeFileSync(join(certDir, 'ca.crt'), ca.certPem);
      writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
      writeFileSync(join(certDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
    }
    const entry = this.entry('flink-webhook.mjs', 'dist/webhook/main.js');
    this.webhook = new ManagedProcess({
      name: 'flink-webhook',
      command: process.execPath,
      env: entry.env,
      args: [
        ...entry.args,
        '--port',
        String(this.webhookPort),
        '--bind-address',
        '127.0.0.1',
        '--tls-cert-file',
        join(certDir, 'tls.crt'),
        '--tls-private-key-file',
        join(certDir, 'tls.key'),
        '--kubeconfig',
        this.controlPlane.kubeconfig(IDENTITIES.webhook),
        ...(options.config ? ['--config', configFile] : []),
      ],
      logFile: join(this.options.stateDir, 'logs', 'flink-webhook.log'),
    });
    this.webhook.start();
    const ca = readFileSync(join(certDir, 'ca.crt'));
    await this.webhook.waitReady(
      async () => (await httpCall(`https://127.0.0.1:${this.webhookPort}/readyz`, { tls: { ca } })).status === 200,
    );
  }

  async stopWebhook(): Promise<void> {
    await this.webhook?.stop();
  }

  /** Takes both webhooks out of the admission chain (what `failurePolicy: Ignore` with a dead webhook amounts to). */
  async unregisterWebhook(): Promise<void> {
    await this.kubectl([
      'delete',
      'mutatingwebhookconfiguration,validatingwebhookconfiguration',
      'flink-operator-ts',
      '--ignore-not-found',
    ]);
  }

  async registerWebhook(): Promise<void> {
    const caBundle = Buffer.from(readFileSync(join(this.webhookCertDir(), 'ca.crt'))).toString('base64');
    const url = (path: string) => `https://127.0.0.1:${this.webhookPort}${path}`;
    const common = {
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      // Never gate the operator's own namespace or kube-system: a broken webhook must not lock out its own repair.
      namespaceSelector: {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', LOCAL_OPERATOR_NAMESPACE] },
        ],
      },
      rules: [
        {
          apiGroups: ['flink.apache.org'],
          apiVersions: ['v1beta1'],
          operations: ['CREATE', 'UPDATE'],
          resources: KINDS.map((k) => k.plural),
          scope: 'Namespaced',
        },
      ],
    };
    await this.apply([
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'flink-operator-ts' },
        webhooks: [
          {
            name: 'mutate.flink.apache.org',
            clientConfig: { url: url('/mutate'), caBundle },
            reinvocationPolicy: 'Never',
            ...common,
          },
        ],
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'flink-operator-ts' },
        webhooks: [{ name: 'validate.flink.apache.org', clientConfig: { url: url('/validate'), caBundle }, ...common }],
      },
    ]);
  }

  /** The operator's configuration file in the stack: leader election on, so a second operator can stand by. */
  get operatorConfigFile(): string {
    return join(this.options.stateDir, 'flink-operator.yaml');
  }

  /**
   * Starts a flink-operator as the operator's own user (the chart's RBAC), reading the runner's REST addresses.
   * `name` tells instances apart: a test may start a second one beside `operator`. A test may also give it other
   * credentials (a token file, an `exec` plugin), another REST-address file (a fault-injecting proxy) or more
   * configuration (object-store endpoints).
   */
  async startOperator(
    name = 'operator',
    options: { kubeconfig?: string; flinkRestOverrides?: string; config?: Record<string, string> } = {},
  ): Promise<ManagedProcess> {
    writeFileSync(
      this.operatorConfigFile,
      [
        'kubernetes.operator.leader-election.enabled: true',
        `kubernetes.operator.leader-election.lease-namespace: ${LOCAL_OPERATOR_NAMESPACE}`,
        'kubernetes.operator.reconcile.interval: 15 s',
        'kubernetes.operator.observer.progress-check.interval: 2 s',
        `kubernetes.operator.user.artifacts.base.dir: ${join(this.options.stateDir, 'artifacts')}`,
        ...Object.entries(options.config ?? {}).map(([key, value]) => `${key}: ${value}`),
        '',
      ].join('\n'),
    );
    const entry = this.entry('flink-operator.mjs', 'dist/operator/main.js');
    const operator = new ManagedProcess({
      name: `flink-operator (${name})`,
      command: process.execPath,
      args: [
        ...entry.args,
        '--kubeconfig',
        options.kubeconfig ?? this.controlPlane.kubeconfig(IDENTITIES.operator),
        '--config',
        this.operatorConfigFile,
        '--flink-rest-overrides',
        options.flinkRestOverrides ?? this.flinkRestOverridesFile,
        '--health-port',
        '0',
        '--health-bind-address',
        '127.0.0.1',
        '--identity',
        name,
      ],
      logFile: join(this.options.stateDir, 'logs', `flink-operator-${name}.log`),
      env: { ...entry.env, OPERATOR_NAMESPACE: LOCAL_OPERATOR_NAMESPACE, ...this.artifactEnvironment() },
    });
    operator.start();
    this.operators.set(name, operator);
    return operator;
  }

  /**
   * How the operator reaches artifacts.example.com, as it would reach any host outside a real cluster: through the
   * proxy in HTTPS_PROXY, trusting the host's CA through NODE_EXTRA_CA_CERTS; the stack's own addresses go direct.
   */
  private artifactEnvironment(): Record<string, string> {
    if (!this.artifactHost) return {};
    return {
      HTTPS_PROXY: this.artifactHost.proxyUrl,
      NO_PROXY: '127.0.0.1,localhost',
      NODE_EXTRA_CA_CERTS: this.artifactHost.caFile,
    };
  }

  operator(name = 'operator'): ManagedProcess | undefined {
    return this.operators.get(name);
  }

  /** Where an operator serves /healthz, /readyz and /metrics, once it has logged it (its latest start's, if restarted). */
  operatorHealthPort(name = 'operator'): number | undefined {
    const log = this.operators.get(name)?.logTail(Number.MAX_SAFE_INTEGER) ?? '';
    const port = [...log.matchAll(/"port":(\d+).*health and metrics listening/g)].at(-1)?.[1];
    return port === undefined ? undefined : Number(port);
  }

  /** Stops an operator: gracefully (SIGTERM, it releases its lease) or by SIGKILL, as a crash would. */
  async stopOperator(name = 'operator', signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const operator = this.operators.get(name);
    if (!operator) return;
    if (signal === 'SIGKILL') await operator.kill();
    else await operator.stop();
    this.operators.delete(name);
  }

  /** Every process of the stack by name (for measuring and for fault injection). */
  processIds(): Record<string, number | undefined> {
    const operators = Object.fromEntries([...this.operators].map(([name, p]) => [`flink-operator (${name})`, p.pid]));
    return { ...this.controlPlane.processIds(), 'flink-webhook': this.webhook?.pid, ...operators };
  }

  /** Where the runner publishes each cluster's REST address: the operator's `--flink-rest-overrides` file. */
  get flinkRestOverridesFile(): string {
    return join(this.options.stateDir, 'flink-rest-overrides.json');
  }

  private async startFlinkRunner(): Promise<void> {
    const kc = await loadKubeConfig(this.controlPlane.kubeconfig(IDENTITIES.kwok));
    const { CoreV1Api } = await import('@kubernetes/client-node');
    if (this.options.flinkStandIn) {
      const standIn = new FlinkRestStandIn({
        filesRoot: join(this.options.stateDir, 'files'),
        flinkVersion: pinnedFlinkVersion(join(repoRoot, 'local/flink-runner')),
      });
      await standIn.start();
      const stopPods = await standInForPods(kc!, kc!.makeApiClient(CoreV1Api), standIn, this.flinkRestOverridesFile);
      this.stopStandIn = async () => {
        await stopPods();
        await standIn.stop();
      };
      return;
    }
    const builds = await ensureFlinkRunners(join(repoRoot, 'local/flink-runner'), (line) => this.progress(line));
    const logFile = join(this.options.stateDir, 'logs', 'flink-runner.log');
    const cluster = kc!.getCurrentCluster()!;
    this.flinkRunner = new FlinkRunner({
      api: kc!.makeApiClient(CoreV1Api),
      apiServer: { server: cluster.server, caData: cluster.caData ?? '' },
      builds,
      stateDir: this.options.stateDir,
      overridesFile: this.flinkRestOverridesFile,
      log: (line) => writeFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { flag: 'a' }),
    });
    this.flinkRunner.start();
    const runner = this.flinkRunner;
    const { pki } = this.controlPlane;
    this.kubeletLogs = await startKubeletLogServer({
      port: this.controlPlane.kubeletPort,
      ...pki.kubeletServing,
      ca: pki.caCert,
      logs: (namespace, pod, container, previous) => runner.containerLog(namespace, pod, container, previous),
    });
    this.artifactHost = await startArtifactHost(builds[0]!.examplesJar, this.options.stateDir);
  }

  async stop(): Promise<void> {
    for (const name of [...this.operators.keys()]) await this.stopOperator(name);
    await this.kubeletLogs?.close();
    await this.flinkRunner?.stop();
    await this.stopStandIn?.();
    await this.artifactHost?.stop();
    await this.stopWebhook();
    await this.controlPlane.stop();
  }
}
