// How a JobManager pod's Flink configuration (the flink-config-<name> ConfigMap) becomes a local Flink's:
// every port on a free loopback port, example jars and file:// paths mapped into the
// stack's state directory. Pure: the runner does the I/O.
import { join } from 'node:path';
import { isHighAvailabilityEnabled } from '../../api/flink-config.js';

export interface LocalPorts {
  rest: number;
  rpc: number;
}

export interface LocalPlacement {
  ports: LocalPorts;
  /**
   * With Kubernetes HA on: a kubeconfig for the pod's ServiceAccount, so Flink's own HA services keep their leader
   * and checkpoint ConfigMaps in the API server as they do from a pod (there, the mounted token does this).
   */
  kubeconfig?: string;
  /** Where `file://` paths of the pod live on this machine. */
  filesRoot: string;
  /** The jar that stands in for `local:///opt/flink/examples/...` jars. */
  examplesJar: string;
  /** The jar that stands in for upstream's autoscaling example image's `/opt/flink/usrlib/autoscaling.jar`. */
  autoscalingJar: string;
}

/** Flink's example jars in the image: `local://` as native mode names them, `file://` as standalone mode does. */
const EXAMPLES_PREFIXES = ['local:///opt/flink/examples/', 'file:///opt/flink/examples/'];

/** Upstream's autoscaling example image's jar (examples/autoscaling/Dockerfile). */
const AUTOSCALING_JARS = ['local:///opt/flink/usrlib/autoscaling.jar', 'file:///opt/flink/usrlib/autoscaling.jar'];

/** Slots of a local session cluster: the upstream session examples run parallelism 4 and 2 side by side. */
const SESSION_SLOTS = 8;

/** Keys that only make sense for Flink on real Kubernetes, or that the local launcher decides. */
const DROPPED = [/^kubernetes\./, /^execution\.target$/, /^\$internal\.deployment\.config-dir$/, /^high-availability/];
/** What Flink's Kubernetes HA services read, kept when they run here. */
const KUBERNETES_HA_KEYS = [/^high-availability/, /^kubernetes\.cluster-id$/, /^kubernetes\.namespace$/];

export function localFlinkConfig(
  podConfig: Readonly<Record<string, string>>,
  placement: LocalPlacement,
): Record<string, string> {
  const out: Record<string, string> = {};
  const ha = placement.kubeconfig !== undefined && isHighAvailabilityEnabled(podConfig);
  for (const [key, value] of Object.entries(podConfig)) {
    const kept = ha && KUBERNETES_HA_KEYS.some((pattern) => pattern.test(key));
    if (!kept && DROPPED.some((pattern) => pattern.test(key))) continue;
    out[key] = value
      .split(';')
      .map((part) => localPath(part.trim(), placement))
      .join(';');
  }
  // Standalone mode puts the job's jar on the classpath (`pipeline.classpaths`); the launcher runs the application
  // from `pipeline.jars`, as Flink's standalone-job entrypoint runs whatever is on its user classpath.
  if (out['pipeline.jars'] === undefined && out['pipeline.classpaths'] !== undefined) {
    out['pipeline.jars'] = out['pipeline.classpaths'];
    delete out['pipeline.classpaths'];
  }
  // An application cluster's TaskManagers hold the configured slots each, and the launcher starts as many as its job
  // asks for (TaskManagerPool). A session cluster's one TaskManager offers room for a few jobs.
  const session = out['pipeline.jars'] === undefined;
  const slots = Math.max(Number(out['taskmanager.numberOfTaskSlots'] ?? 1) || 1, session ? SESSION_SLOTS : 1);
  return {
    ...out,
    'rest.port': String(placement.ports.rest),
    'rest.bind-port': String(placement.ports.rest),
    'rest.address': '127.0.0.1',
    // Fixed in a pod (6124, 6122), any free port here: many JobManagers share this host.
    'blob.server.port': '0',
    'taskmanager.rpc.port': '0',
    'rest.bind-address': '127.0.0.1',
    'jobmanager.rpc.address': '127.0.0.1',
    'jobmanager.rpc.port': String(placement.ports.rpc),
    'jobmanager.bind-host': '127.0.0.1',
    'taskmanager.host': '127.0.0.1',
    'taskmanager.bind-host': '127.0.0.1',
    'taskmanager.numberOfTaskSlots': String(slots),
    // Standalone application mode as Flink's Kubernetes entrypoint runs it: the JobManager outlives its job.
    'execution.shutdown-on-application-finish': 'false',
    ...(ha ? { 'kubernetes.config.file': placement.kubeconfig! } : {}),
  };
}

/**
 * A pod's `file:///x` is `<filesRoot>/x` here. A path already under filesRoot — one Flink reported, such as a
 * savepoint location handed back as `execution.savepoint.path` — is left alone, so mapping twice changes nothing.
 */
function localPath(value: string, placement: LocalPlacement): string {
  if (EXAMPLES_PREFIXES.some((prefix) => value.startsWith(prefix))) return `file://${placement.examplesJar}`;
  if (AUTOSCALING_JARS.includes(value)) return `file://${placement.autoscalingJar}`;
  return /^file:/.test(value) ? podPathToLocal(value, placement.filesRoot) : value;
}

/** A path on a pod's file system (`file:///x`, or `/x` as Flink reads a path without a scheme) as it is here. */
export function podPathToLocal(value: string, filesRoot: string): string {
  const path = /^(?:file:(?:\/\/)?)?(\/.*)$/.exec(value)?.[1];
  if (path === undefined || path.startsWith(`${filesRoot}/`)) return value;
  return `file://${join(filesRoot, path)}`;
}

/** Flink's config.yaml as the operator writes it: flat `key: value` lines. */
export function readFlatFlinkConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([^#\s][^:]*?):\s?(.*)$/.exec(line.trimEnd());
    if (match) out[match[1]!.trim()] = unquote(match[2]!.trim());
  }
  return out;
}

export function writeFlatFlinkConfig(config: Record<string, string>): string {
  return (
    Object.entries(config)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') + '\n'
  );
}

function unquote(value: string): string {
  return /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value;
}
