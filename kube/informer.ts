// A cache of one kind of object kept by list+watch. client-node's informer relists on 410 Gone but stops for
// good on any other error (a dropped connection, an API server restart); this one starts again with backoff,
// and says whether its content can be trusted right now.
import { makeInformer, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';
import { isLiveKubeConfig } from './kubeconfig.js';

export interface InformerOptions {
  labelSelector?: string;
  onError?: (err: unknown, retryInMs: number) => void;
  /** Every add, update and delete the watch delivers (and every object of a relist). */
  onChange?: (obj: KubernetesObject, event: 'add' | 'update' | 'delete') => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface ObjectCache<T extends KubernetesObject> {
  /** False until the first list completes, and again from an error until the next list completes. */
  synced(): boolean;
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): readonly T[];
  stop(): Promise<void>;
}

export function startInformer<T extends KubernetesObject>(kc: KubeConfig, path: string, listFn: ListPromise<T>, options: InformerOptions = {}): ObjectCache<T> {
  const informer = makeInformer(kc, path, listFn, options.labelSelector);
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let synced = false;
  let stopped = false;
  let backoff = minBackoff;
  let retry: NodeJS.Timeout | undefined;

  // Cached objects are read, never written back: their managedFields are only weight.
  const slim = (obj: T) => void delete (obj.metadata as { managedFields?: unknown } | undefined)?.managedFields;
  informer.on('add', slim);
  informer.on('update', slim);
  if (options.onChange) for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (obj) => options.onChange!(obj, verb));

  const start = () => {
    retry = undefined;
    informer.start().then(
      () => {
        // start() resolves once the list is in and the watch is open; it may also resolve after an error event.
        if (retry === undefined && !stopped) {
          synced = true;
          backoff = minBackoff;
        }
      },
      (err: unknown) => failed(err),
    );
  };
  const failed = (err: unknown) => {
    synced = false;
    if (stopped || retry !== undefined) return;
    // A rotated or revoked token: the restart uses the kubeconfig's credentials read afresh.
    if (statusOf(err) === 401 && isLiveKubeConfig(kc)) kc.refreshCredentials();
    options.onError?.(err, backoff);
    retry = setTimeout(start, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, maxBackoff);
  };
  informer.on('error', failed);
  start();

  return {
    synced: () => synced,
    get: (namespace, name) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    stop: async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      await informer.stop();
    },
  };
}

/** The HTTP status of a failed list (client-node's ApiException `code`) or watch (`statusCode`). */
export function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown } | undefined;
  return typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
}

/**
 * One cache over the given namespaces (one informer each: RBAC per namespace needs no cluster-wide list), or over all
 * of them when none are given. An object in a namespace not watched is not there.
 */
export function namespacedCache<T extends KubernetesObject>(namespaces: readonly string[], start: (namespace?: string) => ObjectCache<T>): ObjectCache<T> {
  if (namespaces.length === 0) return start();
  const caches = new Map(namespaces.map((namespace) => [namespace, start(namespace)]));
  return {
    synced: () => [...caches.values()].every((c) => c.synced()),
    get: (namespace, name) => caches.get(namespace)?.get(namespace, name),
    list: (namespace) => (namespace === undefined ? [...caches.values()].flatMap((c) => c.list()) : (caches.get(namespace)?.list(namespace) ?? [])),
    stop: async () => void (await Promise.all([...caches.values()].map((c) => c.stop()))),
  };
}
