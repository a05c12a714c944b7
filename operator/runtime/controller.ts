// One controller of the frame, as controller-runtime shapes it: watches that keep informer caches and map their
// events to keys, a keyed work queue with per-key backoff, and a reconciler made afresh for each term of
// leadership — its Kubernetes client fenced by that term and its signal aborted when the term ends.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Fence, KubeClient } from '../../kube/client.js';
import type { InformerOptions, ObjectCache } from '../../kube/informer.js';
import { WorkQueue, type Outcome } from '../work-queue.js';

export type ChangeEvent = 'add' | 'update' | 'delete';

/** One kind of object a controller watches, and which resources an event about it makes due. */
export interface WatchSource {
  /** Names the cache for the reconciler, and the watch in logs. */
  name: string;
  start(client: KubeClient, options: InformerOptions & { namespace?: string }): ObjectCache<KubernetesObject>;
  /** The keys (`namespace/name`) to reconcile for an event; default: the object's own. */
  keysOf?(obj: KubernetesObject): string[];
  /** Made once per term: says which events matter (e.g. a spec change, not the operator's own status writes). */
  predicate?(): (obj: KubernetesObject, event: ChangeEvent) => boolean;
}

/** The caches of a controller's watches, read as controller-runtime's cached client reads. */
export interface CacheReader {
  get(watch: string, namespace: string, name: string): KubernetesObject | undefined;
  list(watch: string, namespace: string): readonly KubernetesObject[];
}

export interface Term {
  /** The operator's Kubernetes client, fenced by this term of leadership. */
  client: KubeClient;
  fence: Fence;
  caches: CacheReader;
  log: Logger;
}

export interface Reconciler {
  reconcile(namespace: string, name: string): Promise<Outcome>;
}

export interface ControllerDefinition {
  /** The controller's name in metrics (`workqueue_depth{name}`) and logs, e.g. `flinkdeployment`. */
  name: string;
  /** The kind it reconciles, for `flink_operator_reconcile_total{kind}`. */
  kind: string;
  watches: WatchSource[];
  reconciler(term: Term): Reconciler;
  /** Gauges read from its caches when scraped (e.g. what its resources' status says). */
  gauges?: ControllerGauge[];
}

/** A gauge whose samples are whatever `read` finds in the caches when scraped: series of objects gone, go. */
export interface ControllerGauge {
  name: string;
  help: string;
  labelNames: string[];
  read(objects: (watch: string) => readonly KubernetesObject[]): { labels: Record<string, string>; value: number }[];
}

export interface RunningController {
  synced(): boolean;
  stop(): Promise<void>;
}

export interface ControllerSettings {
  /** The client the watches use: not fenced by a term, as stopping the controller stops them. */
  watchClient: KubeClient;
  /** Watched namespaces; empty for all. */
  namespaces: string[];
  workers: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  log: Logger;
  metrics: ControllerMetrics;
  onWatchError(controller: string, watch: string, err: unknown, retryInMs: number): void;
}

/** What the metrics read from a work queue when scraped. */
type QueueReadings = Pick<WorkQueue, 'depth' | 'inProgressMs'>;

/** controller-runtime's work-queue metrics per controller, and our reconcile totals per kind, on one registry. */
export class ControllerMetrics {
  readonly reconciles: Counter;
  readonly reconcileSeconds: Histogram;
  readonly adds: Counter;
  readonly retries: Counter;
  readonly workSeconds: Histogram;
  private readonly queues = new Map<string, QueueReadings>();
  private readonly objects = new Map<string, (watch: string) => readonly KubernetesObject[]>();
  private readonly gauges = new Set<string>();

  constructor(private readonly registry: Registry) {
    const registers = [registry];
    const queues = this.queues;
    this.reconciles = new Counter({
      name: 'flink_operator_reconcile_total',
      help: 'Reconciles by kind and result',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.reconcileSeconds = new Histogram({
      name: 'flink_operator_reconcile_duration_seconds',
      help: 'Time of one reconcile',
      labelNames: ['kind'],
      registers,
    });
    this.adds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Keys added to the work queue',
      labelNames: ['name'],
      registers,
    });
    this.retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Keys retried after a failed reconcile',
      labelNames: ['name'],
      registers,
    });
    this.workSeconds = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'Time a key takes to be processed',
      labelNames: ['name'],
      registers,
    });
    new Gauge({
      name: 'workqueue_depth',
      help: 'Keys waiting for a worker, read when scraped',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues) this.set({ name }, queue.depth);
      },
    });
    // A reconcile that never ends shows here long before anyone notices its resource is stuck.
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How long the longest-running reconcile has been running',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues) this.set({ name }, Math.max(0, ...queue.inProgressMs()) / 1000);
      },
    });
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'Time the reconciles in progress have taken so far, summed',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues) this.set({ name }, queue.inProgressMs().reduce((a, b) => a + b, 0) / 1000);
      },
    });
  }

  track(name: string, queue: QueueReadings): void {
    this.queues.set(name, queue);
  }

  /** A running controller's gauges, each registered once, read from its caches while it runs. */
  trackGauges(controller: string, gauges: ControllerGauge[], objects: (watch: string) => readonly KubernetesObject[]) {
    this.objects.set(controller, objects);
    for (const g of gauges) {
      if (this.gauges.has(g.name)) continue;
      this.gauges.add(g.name);
      const sources = this.objects;
      new Gauge({
        name: g.name,
        help: g.help,
        labelNames: g.labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          const read = sources.get(controller);
          if (read) for (const sample of g.read(read)) this.set(sample.labels, sample.value);
        },
      });
    }
  }

  untrackGauges(controller: string): void {
    this.objects.delete(controller);
  }
}

/** Starts a controller for one term: its caches, its queue and its reconciler. */
export function runController(
  def: ControllerDefinition,
  settings: ControllerSettings,
  fence: Fence,
  client: KubeClient,
): RunningController {
  const { metrics, log } = settings;
  const caches = new Map<string, Map<string | undefined, ObjectCache<KubernetesObject>>>();
  const scope = (namespace: string) => (settings.namespaces.length > 0 ? namespace : undefined);
  const reader: CacheReader = {
    get: (watch, namespace, name) => caches.get(watch)?.get(scope(namespace))?.get(namespace, name),
    list: (watch, namespace) => caches.get(watch)?.get(scope(namespace))?.list(namespace) ?? [],
  };
  const reconciler = def.reconciler({ client, fence, caches: reader, log: log.child({ controller: def.name }) });

  const queue: WorkQueue = new WorkQueue(
    async (key) => {
      const [namespace, name] = splitKey(key);
      const endReconcile = metrics.reconcileSeconds.startTimer({ kind: def.kind });
      const endWork = metrics.workSeconds.startTimer({ name: def.name });
      try {
        const outcome = await reconciler.reconcile(namespace, name);
        metrics.reconciles.inc({ kind: def.kind, result: 'success' });
        return outcome;
      } catch (err) {
        metrics.reconciles.inc({ kind: def.kind, result: 'error' });
        // A term that ended aborted this reconcile: not a failure of the resource, and no retry in this term.
        if (fence.signal.aborted) return { requeueAfterMs: undefined };
        throw err;
      } finally {
        endReconcile();
        endWork();
      }
    },
    {
      workers: settings.workers,
      baseBackoffMs: settings.baseBackoffMs,
      maxBackoffMs: settings.maxBackoffMs,
      onAdd: () => metrics.adds.inc({ name: def.name }),
      onRetry: () => metrics.retries.inc({ name: def.name }),
    },
    (key, err, retryInMs) =>
      log.warn(
        { controller: def.name, resource: key, reason: (err as Error).message, retryInMs },
        'reconcile failed; retrying with backoff',
      ),
  );
  metrics.track(def.name, queue);

  for (const watch of def.watches) {
    const byNamespace = new Map<string | undefined, ObjectCache<KubernetesObject>>();
    caches.set(watch.name, byNamespace);
    const matters = watch.predicate?.() ?? (() => true);
    const onChange = (obj: KubernetesObject, event: ChangeEvent) => {
      if (!matters(obj, event)) return;
      for (const key of watch.keysOf?.(obj) ?? [`${obj.metadata?.namespace}/${obj.metadata?.name}`]) queue.add(key);
    };
    const onError = (err: unknown, retryInMs: number) => settings.onWatchError(def.name, watch.name, err, retryInMs);
    for (const namespace of settings.namespaces.length > 0 ? settings.namespaces : [undefined]) {
      byNamespace.set(namespace, watch.start(settings.watchClient, { namespace, onChange, onError }));
    }
  }
  const all = [...caches.values()].flatMap((m) => [...m.values()]);
  if (def.gauges)
    metrics.trackGauges(def.name, def.gauges, (watch) =>
      [...(caches.get(watch)?.values() ?? [])].flatMap((c) => c.list()),
    );
  queue.start();
  return {
    synced: () => all.every((c) => c.synced()),
    stop: async () => {
      metrics.untrackGauges(def.name);
      await Promise.all(all.map((c) => c.stop()));
      await queue.stop();
    },
  };
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
