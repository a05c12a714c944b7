// The caches the shells keep: our resources, and the built-in objects they read (the JobManager Deployments the
// operator owns, the ServiceAccounts the webhook checks), each listed and watched as plain JSON.
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  FLINK_DEPLOYMENT,
  FLINK_SESSION_JOB,
  FLINK_STATE_SNAPSHOT,
  GROUP,
  VERSION,
  type KindInfo,
} from '../api/schema/crd.js';
import type { FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot } from '../api/types.generated.js';
import type { KubeClient } from './client.js';
import { startInformer, type InformerOptions, type ObjectCache } from './informer.js';

export type FlinkDeploymentObject = FlinkDeployment & KubernetesObject;
export type FlinkSessionJobObject = FlinkSessionJob & KubernetesObject;
export type FlinkStateSnapshotObject = FlinkStateSnapshot & KubernetesObject;

export type CacheOptions = InformerOptions & { namespace?: string };

/** The collection path of a kind in one namespace, or across all of them. */
const collection = (base: string, plural: string, namespace?: string) =>
  namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;

export function watchPath(kind: KindInfo, namespace?: string): string {
  return collection(`/apis/${GROUP}/${VERSION}`, kind.plural, namespace);
}

export function flinkDeploymentCache(
  client: KubeClient,
  options: CacheOptions = {},
): ObjectCache<FlinkDeploymentObject> {
  return startInformer(client, watchPath(FLINK_DEPLOYMENT, options.namespace), options);
}

export function flinkSessionJobCache(
  client: KubeClient,
  options: CacheOptions = {},
): ObjectCache<FlinkSessionJobObject> {
  return startInformer(client, watchPath(FLINK_SESSION_JOB, options.namespace), options);
}

export function flinkStateSnapshotCache(
  client: KubeClient,
  options: CacheOptions = {},
): ObjectCache<FlinkStateSnapshotObject> {
  return startInformer(client, watchPath(FLINK_STATE_SNAPSHOT, options.namespace), options);
}

/** The operator reads a JobManager Deployment's metadata and status; its spec (the pod template) is most of its size. */
const withoutSpec = (obj: KubernetesObject): void => void delete (obj as { spec?: unknown }).spec;

/** The JobManager Deployments of Flink clusters (label-selected: only what the operator owns is cached). */
export function jobManagerDeploymentCache(
  client: KubeClient,
  options: CacheOptions = {},
): ObjectCache<KubernetesObject> {
  const labelSelector = 'component=jobmanager,type in (flink-native-kubernetes,flink-standalone-kubernetes)';
  return startInformer(client, collection('/apis/apps/v1', 'deployments', options.namespace), {
    ...options,
    labelSelector,
    prune: withoutSpec,
  });
}

/** ServiceAccounts (the webhook asks only whether the one a FlinkDeployment names exists). */
export function serviceAccountCache(client: KubeClient, options: CacheOptions = {}): ObjectCache<KubernetesObject> {
  return startInformer(client, collection('/api/v1', 'serviceaccounts', options.namespace), options);
}
