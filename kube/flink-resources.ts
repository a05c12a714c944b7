// The caches the shells keep: our resources through the generic custom-objects API, and the built-in objects they
// read (the JobManager Deployments the operator owns, the ServiceAccounts the webhook checks).
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type KubernetesListObject } from '@kubernetes/client-node';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB, FLINK_STATE_SNAPSHOT, GROUP, VERSION, type KindInfo } from '../api/schema/crd.js';
import type { FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot } from '../api/types.generated.js';
import { startInformer, type InformerOptions, type ObjectCache } from './informer.js';

export type FlinkDeploymentObject = FlinkDeployment & KubernetesObject;
export type FlinkSessionJobObject = FlinkSessionJob & KubernetesObject;
export type FlinkStateSnapshotObject = FlinkStateSnapshot & KubernetesObject;

export function watchPath(kind: KindInfo, namespace?: string): string {
  return namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${kind.plural}` : `/apis/${GROUP}/${VERSION}/${kind.plural}`;
}

/** One of our custom resources in every namespace (or one), kept current by an informer. */
function customResourceCache<T extends KubernetesObject>(kind: KindInfo, kc: KubeConfig, options: InformerOptions & { namespace?: string }): ObjectCache<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const list = async () => {
    const base = { group: GROUP, version: VERSION, plural: kind.plural };
    return (options.namespace
      ? await api.listNamespacedCustomObject({ ...base, namespace: options.namespace })
      : await api.listClusterCustomObject(base)) as KubernetesListObject<T>;
  };
  return startInformer<T>(kc, watchPath(kind, options.namespace), list, options);
}

export function flinkDeploymentCache(kc: KubeConfig, options: InformerOptions & { namespace?: string } = {}): ObjectCache<FlinkDeploymentObject> {
  return customResourceCache(FLINK_DEPLOYMENT, kc, options);
}

export function flinkSessionJobCache(kc: KubeConfig, options: InformerOptions & { namespace?: string } = {}): ObjectCache<FlinkSessionJobObject> {
  return customResourceCache(FLINK_SESSION_JOB, kc, options);
}

export function flinkStateSnapshotCache(kc: KubeConfig, options: InformerOptions & { namespace?: string } = {}): ObjectCache<FlinkStateSnapshotObject> {
  return customResourceCache(FLINK_STATE_SNAPSHOT, kc, options);
}

/** The JobManager Deployments of Flink clusters (label-selected: only what the operator owns is cached). */
export function jobManagerDeploymentCache(kc: KubeConfig, options: InformerOptions & { namespace?: string } = {}): ObjectCache<KubernetesObject> {
  const labelSelector = 'component=jobmanager,type in (flink-native-kubernetes,flink-standalone-kubernetes)';
  const api = kc.makeApiClient(AppsV1Api);
  const list = async () =>
    (options.namespace
      ? await api.listNamespacedDeployment({ namespace: options.namespace, labelSelector })
      : await api.listDeploymentForAllNamespaces({ labelSelector })) as KubernetesListObject<KubernetesObject>;
  const path = options.namespace ? `/apis/apps/v1/namespaces/${options.namespace}/deployments` : '/apis/apps/v1/deployments';
  return startInformer<KubernetesObject>(kc, path, list, { ...options, labelSelector });
}

/** ServiceAccounts (names only matter: each is slimmed to its metadata in the cache). */
export function serviceAccountCache(kc: KubeConfig, options: InformerOptions & { namespace?: string } = {}): ObjectCache<KubernetesObject> {
  const api = kc.makeApiClient(CoreV1Api);
  const list = async () =>
    (options.namespace ? await api.listNamespacedServiceAccount({ namespace: options.namespace }) : await api.listServiceAccountForAllNamespaces()) as KubernetesListObject<KubernetesObject>;
  const path = options.namespace ? `/api/v1/namespaces/${options.namespace}/serviceaccounts` : '/api/v1/serviceaccounts';
  return startInformer<KubernetesObject>(kc, path, list, options);
}
