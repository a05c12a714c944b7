// The Kubernetes objects of one Flink cluster, as Flink's own Kubernetes factories name and shape them (notes §8.3):
// the JobManager Deployment `<name>` owned by the FlinkDeployment, and what hangs off it — the `flink-config-<name>`
// ConfigMap, the `<name>-rest` and (without HA) `<name>` Services and, in standalone mode, the TaskManager
// Deployment — owned by the JobManager Deployment, so deleting it takes the whole cluster along.
import { OVERRIDES_KEY } from '../autoscaler/state.js';
import { isHighAvailabilityEnabled, parseQuantity, type FlatConfig } from '../flink-config.js';
import { deriveProcessMemory } from '../flink-memory.js';
import { dialect } from '../flink-versions.js';
import { API_VERSION, FLINK_DEPLOYMENT } from '../schema/crd.js';
import type { FlinkDeploymentSpec } from '../types.generated.js';
import { asObject, type Json } from '../validation/access.js';
import {
  BLOB_PORT,
  cpuKey,
  renderFlinkConfiguration,
  REST_PORT,
  RPC_PORT,
  TASK_MANAGER_RPC_PORT,
  taskManagerReplicas,
  type DeploymentIdentity,
} from './flink-configuration.js';

export { REST_PORT } from './flink-configuration.js';

export const GENERATION_ANNOTATION = 'flinkdeployment.flink.apache.org/generation';
/**
 * The parallelism overrides a JobManager was deployed with, when it has any: an autoscaler rescale by upgrade
 * redeploys without a new generation, and only these tell its JobManager from the one before.
 */
export const OVERRIDES_ANNOTATION = 'flinkdeployment.flink.apache.org/parallelism-overrides';
export const MAIN_CONTAINER = 'flink-main-container';
const CONFIG_VOLUME = 'flink-config-volume';
const CONF_DIR = '/opt/flink/conf';
const ARTIFACTS_VOLUME = 'user-artifacts-volume';
const ARTIFACTS_DIR = '/opt/flink/artifacts';

export interface ClusterObjects {
  /** Owned by the FlinkDeployment. */
  jobManager: Json;
  ingress?: Json;
  /** Owned by the JobManager Deployment (its uid is known once it exists). */
  dependents: Json[];
}

export interface ClusterInputs extends DeploymentIdentity {
  uid: string;
  generation: number;
  spec: FlinkDeploymentSpec;
  /** The effective Flink configuration (buildFlinkConfiguration). */
  conf: FlatConfig;
}

export const clusterType = (spec: FlinkDeploymentSpec) =>
  spec.mode === 'standalone' ? 'flink-standalone-kubernetes' : 'flink-native-kubernetes';

export function jobManagerLabels(name: string, spec: FlinkDeploymentSpec): Record<string, string> {
  return { type: clusterType(spec), app: name, component: 'jobmanager' };
}

/** The label selector of a cluster's JobManager pods. */
export function jobManagerSelector(name: string, spec: FlinkDeploymentSpec): string {
  return Object.entries(jobManagerLabels(name, spec))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function configMapName(name: string): string {
  return `flink-config-${name}`;
}

export function restServiceName(name: string): string {
  return `${name}-rest`;
}

export function clusterObjects(input: ClusterInputs): ClusterObjects {
  const { name, namespace, spec, conf } = input;
  const type = clusterType(spec);
  const standalone = spec.mode === 'standalone';
  const jmLabels = jobManagerLabels(name, spec);
  const meta = (objectName: string, labels: Record<string, string>) => ({ name: objectName, namespace, labels });
  const configFile = dialect(spec.flinkVersion).configFile;

  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMapName(name), { type, app: name }),
    data: {
      [configFile]: renderFlinkConfiguration(conf),
      ...(spec.logConfiguration ?? { 'log4j-console.properties': DEFAULT_LOG4J }),
    },
  };
  // Flink lists the logging files first, then its configuration file.
  const volumeKeys = [
    ...Object.keys(configMap.data)
      .filter((k) => k !== configFile)
      .sort(),
    configFile,
  ];
  const configVolume = {
    name: CONFIG_VOLUME,
    configMap: { name: configMapName(name), items: volumeKeys.map((key) => ({ key, path: key })) },
  };
  const artifacts = !standalone && conf['kubernetes.user.artifacts.emptyDir.enable'] !== 'false';

  // Flink's start command: the entrypoint script, the deployment target, then (empty) entrypoint arguments.
  const jobManagerArgs = standalone
    ? spec.job
      ? ['standalone-job']
      : ['jobmanager']
    : ['bash', '-c', `kubernetes-jobmanager.sh ${spec.job ? 'kubernetes-application' : 'kubernetes-session'} `];
  const jobManager = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...meta(name, jmLabels),
      annotations: {
        [GENERATION_ANNOTATION]: String(input.generation),
        ...(conf[OVERRIDES_KEY] ? { [OVERRIDES_ANNOTATION]: conf[OVERRIDES_KEY] } : {}),
      },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: FLINK_DEPLOYMENT.kind,
          name,
          uid: input.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: Number(conf['kubernetes.jobmanager.replicas'] ?? 1),
      selector: { matchLabels: jmLabels },
      template: podTemplate(
        spec,
        'jobManager',
        jmLabels,
        {
          name: MAIN_CONTAINER,
          ...image(spec),
          ...(standalone ? {} : { command: ['/docker-entrypoint.sh'] }),
          args: jobManagerArgs,
          ports: [
            { name: 'rest', containerPort: REST_PORT },
            { name: 'jobmanager-rpc', containerPort: RPC_PORT },
            { name: 'blobserver', containerPort: BLOB_PORT },
          ],
          resources: containerResources(conf, 'jobmanager'),
          env: [{ name: '_POD_IP_ADDRESS', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } }],
          volumeMounts: [
            ...(artifacts ? [{ name: ARTIFACTS_VOLUME, mountPath: ARTIFACTS_DIR }] : []),
            { name: CONFIG_VOLUME, mountPath: CONF_DIR },
          ],
        },
        [...(artifacts ? [{ name: ARTIFACTS_VOLUME, emptyDir: {} }] : []), configVolume],
      ),
    },
  };

  const restService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(restServiceName(name), { type, app: name }),
    spec: {
      type: conf['kubernetes.rest-service.exposed.type'] ?? 'ClusterIP',
      selector: jmLabels,
      ports: [{ name: 'rest', port: REST_PORT, targetPort: REST_PORT }],
    },
  };
  const dependents: Json[] = [configMap, restService];
  // Flink only needs the headless internal Service when the JobManager is not found through HA (or standalone).
  if (standalone || !isHighAvailabilityEnabled(conf)) {
    dependents.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name, { type, app: name }),
      spec: {
        clusterIP: 'None',
        selector: jmLabels,
        ports: [
          { name: 'jobmanager-rpc', port: RPC_PORT },
          { name: 'blobserver', port: BLOB_PORT },
        ],
      },
    });
  }
  if (standalone) {
    const tmLabels = { type, app: name, component: 'taskmanager' };
    dependents.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(`${name}-taskmanager`, tmLabels),
      spec: {
        replicas: spec.job ? taskManagerReplicas(spec, conf) : (spec.taskManager?.replicas ?? 1),
        selector: { matchLabels: tmLabels },
        template: podTemplate(
          spec,
          'taskManager',
          tmLabels,
          {
            name: MAIN_CONTAINER,
            ...image(spec),
            args: ['taskmanager'],
            ports: [{ name: 'taskmanager-rpc', containerPort: TASK_MANAGER_RPC_PORT }],
            resources: containerResources(conf, 'taskmanager'),
            volumeMounts: [{ name: CONFIG_VOLUME, mountPath: CONF_DIR }],
          },
          [configVolume],
        ),
      },
    });
  }

  const ingress = spec.ingress?.template ? ingressObject(input) : undefined;
  return { jobManager, dependents, ...(ingress ? { ingress } : {}) };
}

function image(spec: FlinkDeploymentSpec): Json {
  return { image: spec.image, imagePullPolicy: spec.imagePullPolicy ?? 'IfNotPresent' };
}

/**
 * Container resources as Flink's KubernetesJobManagerParameters / TaskManagerParameters derive them: memory is the
 * process size in MiB, cpu the configured cores (default 1), limits scaled by the limit factors.
 */
function containerResources(conf: FlatConfig, component: 'jobmanager' | 'taskmanager'): Json {
  const derived = deriveProcessMemory(conf, component);
  // Admission rejects what Flink cannot derive; Flink's own defaults size a process nothing sized.
  const memoryMb = derived.ok ? Number(derived.processBytes >> 20n) : component === 'jobmanager' ? 1600 : 1728;
  const cpu = parseQuantity(conf[cpuKey(component)] ?? conf[cpuKey(component, dialect('v1_16'))] ?? '1') ?? 1;
  const factor = (key: string) => Number(conf[`kubernetes.${component}.${key}.limit-factor`] ?? 1) || 1;
  return {
    requests: { cpu: String(cpu), memory: `${memoryMb}Mi` },
    limits: { cpu: String(cpu * factor('cpu')), memory: `${Math.round(memoryMb * factor('memory'))}Mi` },
  };
}

/**
 * The pod template: the user's `spec.podTemplate` overlaid with the component's own, then Flink's main container
 * merged into the container of the same name (the user's fields that Flink does not set are kept).
 */
function podTemplate(
  spec: FlinkDeploymentSpec,
  component: 'jobManager' | 'taskManager',
  labels: Record<string, string>,
  main: Json,
  volumes: Json[],
): Json {
  const common = asObject(spec.podTemplate) ?? {};
  const own = asObject(spec[component]?.podTemplate) ?? {};
  const metadata = { ...asObject(common.metadata), ...asObject(own.metadata) };
  const podSpec: Json = { ...asObject(common.spec), ...asObject(own.spec) };
  const containers = (Array.isArray(podSpec.containers) ? podSpec.containers : []) as Json[];
  const userMain = containers.find((c) => c.name === MAIN_CONTAINER) ?? {};
  // The kubelet then keeps a crashed container's log tail as its termination message: the error a crash loop shows.
  const mergedMain: Json = { terminationMessagePolicy: 'FallbackToLogsOnError', ...userMain, ...main };
  for (const key of ['env', 'volumeMounts', 'ports'] as const) {
    if (Array.isArray(userMain[key])) mergedMain[key] = [...(main[key] as Json[]), ...(userMain[key] as Json[])];
  }
  return {
    metadata: {
      ...metadata,
      labels: { ...asObject(metadata.labels), ...labels },
    },
    spec: {
      dnsPolicy: 'ClusterFirst',
      hostNetwork: false,
      ...podSpec,
      serviceAccount: spec.serviceAccount ?? 'default',
      serviceAccountName: spec.serviceAccount ?? 'default',
      containers: [mergedMain, ...containers.filter((c) => c.name !== MAIN_CONTAINER)],
      volumes: [...volumes, ...((Array.isArray(podSpec.volumes) ? podSpec.volumes : []) as Json[])],
    },
  };
}

/** The Ingress of `spec.ingress` (upstream IngressUtils): host and path from the template, to `<name>-rest`. */
function ingressObject({ name, namespace, uid, spec }: ClusterInputs): Json {
  const ingress = spec.ingress!;
  const { host, path } = ingressUrl(ingress.template!, name, namespace);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace,
      labels: { ...ingress.labels, app: name, component: 'ingress' },
      ...(ingress.annotations ? { annotations: ingress.annotations } : {}),
      ownerReferences: [
        { apiVersion: API_VERSION, kind: FLINK_DEPLOYMENT.kind, name, uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      ...(ingress.className ? { ingressClassName: ingress.className } : {}),
      ...(ingress.tls ? { tls: ingress.tls } : {}),
      rules: [
        {
          ...(host ? { host } : {}),
          http: {
            paths: [
              {
                path,
                pathType: 'ImplementationSpecific',
                backend: { service: { name: restServiceName(name), port: { number: REST_PORT } } },
              },
            ],
          },
        },
      ],
    },
  };
}

export function ingressUrl(template: string, name: string, namespace: string): { host?: string; path: string } {
  const text = template.replace(/\{\{name\}\}/gi, name).replace(/\{\{namespace\}\}/gi, namespace);
  if (text.startsWith('/')) return { path: text };
  const withScheme = /^https?:\/\//.test(text) ? text : `http://${text}`;
  const slash = withScheme.indexOf('/', withScheme.indexOf('//') + 2);
  const host = (slash < 0 ? withScheme : withScheme.slice(0, slash)).replace(/^https?:\/\//, '').replace(/:\d+$/, '');
  return { host, path: slash < 0 ? '/' : withScheme.slice(slash) };
}

const DEFAULT_LOG4J = [
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.console.ref = ConsoleAppender',
  'appender.console.name = ConsoleAppender',
  'appender.console.type = CONSOLE',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n',
  '',
].join('\n');
