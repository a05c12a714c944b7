// A cache of one kind of object kept by list+watch, on our own REST client: objects stay the API server's JSON (no
// typed model classes, none of client-node's generated code loaded), and the list is read in pages so no one answer
// holds the event loop. As client-go's reflector does, a dropped or stalled watch (an API server restart) resumes
// from the last resourceVersion it saw, with backoff; only a 410 Gone (that version compacted away) lists again.
// It says whether its content can be trusted right now.
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError, type KubeClient, type KubeObject, type WatchEvent } from './client.js';

export interface InformerOptions {
  labelSelector?: string;
  onError?: (err: unknown, retryInMs: number) => void;
  /** Every add, update and delete the watch delivers (and every difference a relist finds). */
  onChange?: (obj: KubernetesObject, event: 'add' | 'update' | 'delete') => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Drops, in place, what no reader of the cache looks at (client-go's transform): kept objects are only weight. */
  prune?: (obj: KubernetesObject) => void;
}

export interface ObjectCache<T extends KubernetesObject> {
  /** False until the first list completes, and again from an error until a watch is open again or a list completes. */
  synced(): boolean;
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): readonly T[];
  stop(): Promise<void>;
}

/** Objects per list page: client-go's reflector reads 500 at a time too. */
const PAGE_SIZE = 500;

/** Objects by namespace, then name: a reconcile asks for one namespace's objects, never for a scan of all of them. */
class Store<T extends KubernetesObject> {
  private readonly byNamespace = new Map<string, Map<string, T>>();

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  has(obj: KubernetesObject): boolean {
    return this.get(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '') !== undefined;
  }

  set(obj: T): void {
    const namespace = obj.metadata?.namespace ?? '';
    let names = this.byNamespace.get(namespace);
    if (!names) this.byNamespace.set(namespace, (names = new Map()));
    names.set(obj.metadata?.name ?? '', obj);
  }

  delete(obj: KubernetesObject): void {
    const namespace = obj.metadata?.namespace ?? '';
    const names = this.byNamespace.get(namespace);
    names?.delete(obj.metadata?.name ?? '');
    if (names?.size === 0) this.byNamespace.delete(namespace);
  }

  *all(): IterableIterator<T> {
    for (const names of this.byNamespace.values()) yield* names.values();
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.all()] : [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }
}

/** Cached objects are read, never written back: their managedFields are only weight. */
function slim<T extends KubernetesObject>(obj: T, prune: InformerOptions['prune']): T {
  delete (obj.metadata as { managedFields?: unknown } | undefined)?.managedFields;
  prune?.(obj);
  return obj;
}

export function startInformer<T extends KubernetesObject>(
  client: KubeClient,
  path: string,
  options: InformerOptions = {},
): ObjectCache<T> {
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const selector = options.labelSelector ? `&labelSelector=${encodeURIComponent(options.labelSelector)}` : '';
  let store = new Store<T>();
  let synced = false;
  let stopped = false;
  let backoff = minBackoff;
  let retry: NodeJS.Timeout | undefined;
  let abort = new AbortController();
  // Every call of a run is aborted by stop(): the run's own view of the client, fenced by its controller.
  let view = client;
  let running: Promise<void> = Promise.resolve();
  const changed = (obj: T, event: 'add' | 'update' | 'delete') => options.onChange?.(obj, event);

  /** Reads every page; then tells what differs from the cache as it was, and replaces it. */
  const relist = async (): Promise<string> => {
    const next = new Store<T>();
    let page: { items: T[]; metadata?: { continue?: string; resourceVersion?: string } };
    let token = '';
    do {
      page = await view.get<KubeObject & typeof page>(
        `${path}?limit=${PAGE_SIZE}${selector}${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
      );
      for (const item of page.items ?? []) next.set(slim(item, options.prune));
      token = page.metadata?.continue ?? '';
    } while (token);
    const previous = store;
    store = next;
    for (const obj of next.all()) {
      const old = previous.get(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
      if (!old) changed(obj, 'add');
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) changed(obj, 'update');
    }
    for (const obj of previous.all()) if (!next.has(obj)) changed(obj, 'delete');
    return page.metadata?.resourceVersion ?? '';
  };

  const apply = (event: WatchEvent<T>): string | undefined => {
    const obj = event.object;
    if (event.type === 'ERROR') {
      const status = obj as unknown as { code?: number; reason?: string; message?: string };
      throw new KubeApiError(
        status.code ?? 500,
        status.reason ?? 'Unknown',
        `watch ${path}: ${status.message ?? 'an error event'}`,
      );
    }
    if (event.type === 'ADDED' || event.type === 'MODIFIED') {
      const existed = store.has(obj);
      store.set(slim(obj, options.prune));
      changed(obj, existed ? 'update' : 'add');
    } else if (event.type === 'DELETED') {
      store.delete(obj);
      changed(obj, 'delete');
    }
    return obj.metadata?.resourceVersion;
  };

  let resourceVersion = '';
  /** List, then watch from there for as long as the API server keeps each watch open; a 410 Gone lists again. */
  const run = async () => {
    while (!stopped) {
      if (!resourceVersion) {
        resourceVersion = await relist();
        synced = true;
        backoff = minBackoff;
      }
      try {
        // The API server ends a watch after timeoutSeconds; spread them (as client-go does) so restarts do not bunch up.
        const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
        const query = `?watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}&resourceVersion=${resourceVersion}${selector}`;
        const opened = () => {
          synced = true;
          backoff = minBackoff;
        };
        await view.watch<T>(
          `${path}${query}`,
          (event) => void (resourceVersion = apply(event) ?? resourceVersion),
          (timeoutSeconds + 30) * 1000,
          opened,
        );
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 410)) throw err;
        resourceVersion = '';
      }
    }
  };

  const start = () => {
    retry = undefined;
    const controller = (abort = new AbortController());
    view = client.fenced({ signal: controller.signal, check: () => controller.signal.throwIfAborted() });
    running = run().catch((err: unknown) => failed(err));
  };
  const failed = (err: unknown) => {
    synced = false;
    if (stopped) return;
    options.onError?.(err, backoff);
    retry = setTimeout(start, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, maxBackoff);
  };
  start();

  return {
    synced: () => synced,
    get: (namespace, name) => store.get(namespace, name),
    list: (namespace) => store.list(namespace),
    stop: async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      abort.abort();
      await running;
    },
  };
}

/** The HTTP status of a failed list or watch. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.status : undefined;
}

/**
 * One cache over the given namespaces (one informer each: RBAC per namespace needs no cluster-wide list), or over all
 * of them when none are given. An object in a namespace not watched is not there.
 */
export function namespacedCache<T extends KubernetesObject>(
  namespaces: readonly string[],
  start: (namespace?: string) => ObjectCache<T>,
): ObjectCache<T> {
  if (namespaces.length === 0) return start();
  const caches = new Map(namespaces.map((namespace) => [namespace, start(namespace)]));
  return {
    synced: () => [...caches.values()].every((c) => c.synced()),
    get: (namespace, name) => caches.get(namespace)?.get(namespace, name),
    list: (namespace) =>
      namespace === undefined
        ? [...caches.values()].flatMap((c) => c.list())
        : (caches.get(namespace)?.list(namespace) ?? []),
    stop: async () => void (await Promise.all([...caches.values()].map((c) => c.stop()))),
  };
}
