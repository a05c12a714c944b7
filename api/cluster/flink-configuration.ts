// The effective Flink configuration of a FlinkDeployment, built as upstream's FlinkConfigBuilder#buildFrom does
// (notes §5.2): operator defaults, the resource's own keys, then what the spec says about image, resources, job
// and cluster identity. It is what the flink-config-<name> ConfigMap carries to whatever runs Flink.
import {
  flattenConfig,
  isBlank,
  isHighAvailabilityEnabled,
  parseMemory,
  parseQuantity,
  withFallbacks,
  type FlatConfig,
} from '../flink-config.js';
import { OVERRIDES_KEY, parseOverrides } from '../autoscaler/state.js';
import { dialect, type FlinkDialect } from '../flink-versions.js';
import type { FlinkDeploymentSpec, JobManagerSpec, TaskManagerSpec } from '../types.generated.js';
import { deploymentConfig } from '../validation/index.js';

/** The ports Flink fixes in a Kubernetes pod (org.apache.flink.kubernetes.utils.Constants). */
export const REST_PORT = 8081;
export const RPC_PORT = 6123;
export const BLOB_PORT = 6124;
export const TASK_MANAGER_RPC_PORT = 6122;

/** What a deploy adds to the spec: the pinned job id and the state to restore from. */
export interface DeployInputs {
  jobId?: string;
  restorePath?: string;
  /** New for each deployment: where its job results go, so no earlier cluster's are found (FLINK-27569). */
  deploymentId?: string;
}

/** Flink's HighAvailabilityOptions#HA_STORAGE_PATH with its deprecated keys. */
const HA_STORAGE_KEYS = [
  'high-availability.storageDir',
  'high-availability.zookeeper.storageDir',
  'recovery.zookeeper.storageDir',
] as const;

export interface DeploymentIdentity {
  name: string;
  namespace: string;
}

const DEFAULT_SLOTS = 1;

export function buildFlinkConfiguration(
  meta: DeploymentIdentity,
  spec: FlinkDeploymentSpec,
  operatorConfig: FlatConfig,
  deploy: DeployInputs = {},
): Record<string, string> {
  const conf = deploymentConfig(operatorConfig, { metadata: { namespace: meta.namespace }, spec });
  const setDefault = (key: string, value: string) => {
    if (isBlank(conf[key])) conf[key] = value;
  };
  const set = (key: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') conf[key] = String(value);
  };
  setDefault('kubernetes.rest-service.exposed.type', 'ClusterIP');
  setDefault('web.cancel.enable', 'false');
  set('$internal.flink.version', spec.flinkVersion);

  const speaks = dialect(spec.flinkVersion);
  if (!isBlank(spec.image)) set(speaks.imageKey, spec.image);
  set('kubernetes.container.image.pull-policy', spec.imagePullPolicy);
  set('kubernetes.service-account', spec.serviceAccount);

  applyComponent(conf, 'jobmanager', spec.jobManager, speaks);
  applyComponent(conf, 'taskmanager', spec.taskManager, speaks);
  if ((spec.jobManager?.replicas ?? 0) > 0) set('kubernetes.jobmanager.replicas', spec.jobManager!.replicas);

  const standalone = spec.mode === 'standalone';
  const job = spec.job;
  if (job) {
    conf['execution.target'] = standalone ? 'remote' : 'kubernetes-application';
    if (job.jarURI) {
      if (standalone) conf['pipeline.classpaths'] = job.jarURI.replace(/^local:/, 'file:');
      else conf['pipeline.jars'] = job.jarURI;
    }
    const parallelism = jobParallelism(spec, conf);
    if (parallelism > 0) conf['parallelism.default'] = String(parallelism);
    conf['execution.shutdown-on-application-finish'] = 'false';
    setDefault('execution.submit-failed-job-on-application-error', 'true');
    setDefault('pipeline.name', meta.name);
    if (job.upgradeMode === 'last-state') setDefault('execution.checkpointing.interval', '5 min');
    setDefault('execution.checkpointing.externalized-checkpoint-retention', 'RETAIN_ON_CANCELLATION');
    if (job.allowNonRestoredState !== undefined)
      conf[speaks.ignoreUnclaimedStateKey] = String(job.allowNonRestoredState);
    set('$internal.application.main', job.entryClass);
    if (job.args && job.args.length > 0) conf['$internal.application.program-args'] = job.args.join(';');
    set('$internal.pipeline.job-id', deploy.jobId);
    set(speaks.restorePathKey, deploy.restorePath);
    // As upstream's setRandomJobResultStorePath: an earlier cluster's job results would otherwise be read as this
    // one's (FLINK-27569). From 2.3 the same holds for application results, which are kept under an id derived from
    // the cluster: a predecessor's left there made Flink 2.3 take the new application for finished, never running it.
    const haStorage = withFallbacks(conf, HA_STORAGE_KEYS[0], HA_STORAGE_KEYS.slice(1));
    if (!isBlank(haStorage) && deploy.deploymentId) {
      const stores = speaks.applicationResultStore ? ['job', 'application'] : ['job'];
      for (const store of stores)
        conf[`${store}-result-store.storage-path`] =
          `${haStorage}/${store}-result-store/${meta.name}/${deploy.deploymentId}`;
      // Kept after cleanup (upstream's choice); 2.3 reads this from the application store's key.
      setDefault(`${speaks.applicationResultStore ? 'application' : 'job'}-result-store.delete-on-commit`, 'false');
    }
  } else {
    conf['execution.target'] = standalone ? 'remote' : 'kubernetes-session';
  }

  conf['kubernetes.namespace'] = meta.namespace;
  conf['kubernetes.cluster-id'] = meta.name;
  const ha = isHighAvailabilityEnabled(conf);
  if (ha) conf['high-availability.cluster-id'] = meta.name;
  // What Flink's KubernetesClusterDescriptor adds before it deploys (we deploy in its place): the ports Kubernetes
  // exposes are fixed, the entrypoint is named, and without HA the JobManager is found through its internal Service.
  for (const [key, port] of [
    ['blob.server.port', BLOB_PORT],
    ['taskmanager.rpc.port', TASK_MANAGER_RPC_PORT],
  ] as const) {
    if (!isFixedPort(conf[key])) conf[key] = String(port);
  }
  if (!standalone) {
    conf['kubernetes.internal.jobmanager.entrypoint.class'] =
      `org.apache.flink.kubernetes.entrypoint.Kubernetes${job ? 'Application' : 'Session'}ClusterEntrypoint`;
    if (!ha) conf['jobmanager.rpc.address'] = `${meta.name}.${meta.namespace}`;
  }
  for (const key of Object.keys(conf)) if (isOperatorKey(key)) delete conf[key];
  return conf;
}

/** Operator and autoscaler keys are ours, not Flink's (upstream AbstractFlinkService#removeOperatorConfigs). */
export function isOperatorKey(key: string): boolean {
  return key.startsWith('kubernetes.operator.') || key.startsWith('job.autoscaler.');
}

/** Flink's KubernetesUtils#checkAndUpdatePortConfigOption keeps a single non-zero port, replaces 0, ranges and absence. */
function isFixedPort(value: string | undefined): boolean {
  return value !== undefined && /^\d+$/.test(value.trim()) && Number(value) > 0;
}

/** Task slots per TaskManager, as Flink reads `taskmanager.numberOfTaskSlots`. */
export function taskSlots(conf: FlatConfig): number {
  const slots = Number(conf['taskmanager.numberOfTaskSlots']);
  return Number.isInteger(slots) && slots > 0 ? slots : DEFAULT_SLOTS;
}

/** `taskManager.replicas` × slots wins over `job.parallelism` (upstream applyJobOrSessionSpec). */
export function jobParallelism(spec: FlinkDeploymentSpec, conf: FlatConfig): number {
  const replicas = spec.taskManager?.replicas;
  if (replicas !== undefined && replicas > 0) return replicas * taskSlots(conf);
  return spec.job?.parallelism ?? 0;
}

/** TaskManagers an application needs: ceil(parallelism / slots), or the explicit replicas. */
export function taskManagerReplicas(spec: FlinkDeploymentSpec, conf: FlatConfig): number {
  const replicas = spec.taskManager?.replicas;
  if (replicas !== undefined && replicas > 0) return replicas;
  // With parallelism overrides (the autoscaler's), the widest vertex sizes the cluster (upstream FLINK-33812).
  const overrides = Object.values(
    parseOverrides(flattenConfig(spec.flinkConfiguration)[OVERRIDES_KEY] ?? conf[OVERRIDES_KEY]),
  );
  const parallelism = overrides.length > 0 ? Math.max(...overrides) : jobParallelism(spec, conf);
  return Math.max(1, Math.ceil(parallelism / taskSlots(conf)));
}

export type Component = 'jobmanager' | 'taskmanager';

/** Memory and cpu of one component: `resources` (requests, else limits) wins over the legacy `resource`. */
function applyComponent(
  conf: Record<string, string>,
  component: Component,
  section: JobManagerSpec | TaskManagerSpec | undefined,
  speaks: FlinkDialect,
): void {
  if (!section) return;
  const requests = section.resources?.requests ?? {};
  const limits = section.resources?.limits ?? {};
  const hasResources = Object.keys(requests).length > 0 || Object.keys(limits).length > 0;
  const memory = hasResources ? (requests.memory ?? limits.memory) : section.resource?.memory;
  const cpu = hasResources ? (requests.cpu ?? limits.cpu) : section.resource?.cpu;
  const bytes = memory === undefined ? undefined : parseMemory(memory);
  if (bytes !== undefined) conf[`${component}.memory.process.size`] = `${bytes}b`;
  const cores = cpu === undefined ? undefined : parseQuantity(cpu);
  // `….cpu.amount` from Flink 1.17 on (the old `….cpu` cannot sit beside `….cpu.limit-factor` in nested YAML).
  if (cores !== undefined) conf[cpuKey(component, speaks)] = String(cores);
  if (hasResources) {
    const factor = (name: string) => {
      const request =
        requests[name] === undefined
          ? undefined
          : name === 'memory'
            ? parseMemory(requests[name]!)
            : parseQuantity(requests[name]!);
      const limit =
        limits[name] === undefined
          ? undefined
          : name === 'memory'
            ? parseMemory(limits[name]!)
            : parseQuantity(limits[name]!);
      return request && limit ? String(limit / request) : undefined;
    };
    const cpuFactor = factor('cpu');
    const memoryFactor = factor('memory');
    if (cpuFactor) conf[`kubernetes.${component}.cpu.limit-factor`] = cpuFactor;
    if (memoryFactor) conf[`kubernetes.${component}.memory.limit-factor`] = memoryFactor;
  }
}

export function cpuKey(component: Component, speaks: FlinkDialect = dialect(undefined)): string {
  return `kubernetes.${component}.cpu${speaks.cpuSuffix}`;
}

/** Flat `key: value` lines in a stable order. */
export function renderFlinkConfiguration(conf: FlatConfig): string {
  return (
    Object.keys(conf)
      .sort()
      .map((key) => `${key}: ${conf[key]}`)
      .join('\n') + '\n'
  );
}
