// What reconciling any Flink custom resource takes, whatever its kind: read it (from the cache, live when the cache
// is behind our own writes), write its status through the status subresource only when it changed, record events,
// keep its finalizer, and turn a failed step into a status error, a Warning event and a retry with backoff.
import { randomBytes } from 'node:crypto';
import type { ReconcileEvent } from '../../api/reconcile/context.js';
import { CacheFreshness } from '../../api/reconcile/freshness.js';
import { canonicalJson } from '../../api/spec-envelope.js';
import { API_VERSION, FLINK_STATE_SNAPSHOT } from '../../api/schema/crd.js';
import type { FlatConfig } from '../../api/flink-config.js';
import { isConflict, isNotFound, objectPath, type KubeClient, type KubeObject } from '../../kube/client.js';
import type { CacheReader, Term, WatchSource } from '../runtime/controller.js';
import { EventRecorder } from '../events.js';
import type { FlinkRestClient, RestAddresses } from '../flink-rest.js';
import type { OwnedSnapshot, SnapshotAction, SnapshotKind, SnapshotProgress } from '../../api/reconcile/snapshots.js';
import { newSnapshotResource, ownedSnapshots } from '../../api/reconcile/state-snapshot.js';
import { jobReferenceOf } from '../../api/validation/state-snapshot.js';
import type { Json } from '../../api/validation/access.js';
import { flinkStateSnapshotCache } from '../../kube/flink-resources.js';
import type { JobStatus } from '../../api/types.generated.js';
import type { Outcome } from '../work-queue.js';

export interface ReconcilerDeps {
  /** Fenced by the term of leadership: nothing is written once it has ended. */
  client: KubeClient;
  events: EventRecorder;
  addresses: RestAddresses;
  operatorConfig: () => FlatConfig;
  log: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
  /** The caches of the controller's watches. */
  caches: CacheReader;
  /** Aborts Flink calls in flight when the term ends. */
  signal: AbortSignal;
  flinkTimeoutMs?: number;
  /** How long a savepoint or cancel may take before the step fails (and is retried). */
  stopTimeoutMs?: number;
}

/** The cache of FlinkStateSnapshots in a job controller (see `snapshotsWatch`). */
export const SNAPSHOTS_CACHE = 'flinkstatesnapshots';

/** What every controller of our kinds is given once (the rest of its reconciler's deps come with each term). */
export interface ControllerOptions {
  identity: string;
  addresses: RestAddresses;
  operatorConfig: () => FlatConfig;
  flinkTimeoutMs: number;
}

/** A reconciler's deps for one term of leadership: its fenced client, caches, logger and abort signal. */
export function termDeps(term: Term, options: ControllerOptions): ReconcilerDeps {
  return {
    client: term.client,
    events: new EventRecorder(term.client, options.identity),
    addresses: options.addresses,
    operatorConfig: options.operatorConfig,
    log: term.log,
    caches: term.caches,
    signal: term.fence.signal,
    flinkTimeoutMs: options.flinkTimeoutMs,
  };
}

export interface FlinkResourceObject extends KubeObject {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  status?: { error?: string } & object;
}

export interface ResourceKind {
  kind: 'FlinkDeployment' | 'FlinkSessionJob' | 'FlinkStateSnapshot';
  plural: string;
  /** The watch whose cache holds this kind. */
  cache: string;
  finalizer: string;
}

/** The actions every kind's planner may ask for, carried out by the frame. */
type FinalizerAction = { kind: 'add-finalizer' } | { kind: 'remove-finalizer' };
/** A kind's own actions: all but the finalizer's. */
export type OwnAction<A> = Exclude<A, FinalizerAction>;

/** What a kind's pure planner returns: the status to write, the events, the actions in order, when to look again. */
export interface ResourcePlan<S, A> {
  status: S;
  events: ReconcileEvent[];
  actions: A[];
  requeueAfterMs: number | undefined;
}

/** One reconcile of one resource of kind R: observe (O), let the pure planner decide, carry out its actions (A). */
export abstract class FlinkResourceReconciler<R extends FlinkResourceObject, O, A extends { kind: string }> {
  /** When the cached copy is behind our own writes or a conflict (then the resource is read live). */
  private readonly freshness = new CacheFreshness();

  constructor(
    protected readonly deps: ReconcilerDeps,
    private readonly resourceKind: ResourceKind,
  ) {}

  async reconcile(namespace: string, name: string): Promise<Outcome> {
    const key = `${namespace}/${name}`;
    const cached = this.deps.caches.get(this.resourceKind.cache, namespace, name) as R | undefined;
    let resource = cached && this.freshness.trust(key, cached.metadata.resourceVersion) ? cached : undefined;
    if (!resource) {
      try {
        resource = await this.deps.client.get<R>(this.path(namespace, name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.freshness.forget(key);
        return { requeueAfterMs: undefined }; // gone: nothing of ours is left (owner references, finalizer)
      }
      this.freshness.readLive(key, resource.metadata.resourceVersion);
    }
    if (this.ignored(resource)) return { requeueAfterMs: undefined };
    try {
      return await this.reconcileObject(resource);
    } catch (err) {
      if (isConflict(err)) this.freshness.conflicted(key);
      throw err;
    }
  }

  /** Resources this reconciler leaves alone (upstream's canary resources). */
  protected ignored(_resource: R): boolean {
    return false;
  }

  /** What this kind looks at besides the resource: its JobManager, its session cluster, what Flink runs. */
  protected abstract observe(resource: R): Promise<O>;

  /** The kind's pure planner; `newJobId` is used if this step starts a job. */
  protected abstract plan(resource: R, observation: O, newJobId: string): ResourcePlan<R['status'], A>;

  /** Carries out one action of the kind's own (the frame keeps the finalizer); the resource as it is afterwards. */
  protected abstract act(resource: R, action: OwnAction<A>): Promise<R>;

  private perform(resource: R, action: A): Promise<R> {
    if (action.kind === 'add-finalizer') return this.addFinalizer(resource);
    if (action.kind === 'remove-finalizer') return this.removeFinalizer(resource);
    return this.act(resource, action as OwnAction<A>);
  }

  private async reconcileObject(object: R): Promise<Outcome> {
    let resource = object;
    const observation = await this.observe(resource);
    const planFor = (r: R) => this.plan(r, observation, randomBytes(16).toString('hex'));
    let plan = planFor(resource);
    // The finalizer is a precondition, not a step worth a trip through the queue: add it and plan again at once.
    if (plan.actions.length === 1 && plan.actions[0]!.kind === 'add-finalizer') {
      resource = await this.addFinalizer(resource);
      plan = planFor(resource);
    }
    await this.carryOut(resource, plan);
    return { requeueAfterMs: plan.requeueAfterMs };
  }

  protected path(namespace: string, name?: string, sub?: string): string {
    return objectPath(API_VERSION, this.resourceKind.plural, namespace, name, sub);
  }

  /**
   * Writes the plan's status and events, then runs its actions in order. A conflict only means the object moved on
   * (the retry reads it afresh) and an ended term writes nothing; any other failed step is a status error and a
   * Warning event, then a retry with the queue's backoff.
   */
  private async carryOut(resource: R, plan: ResourcePlan<R['status'], A>): Promise<R> {
    let current = await this.writeStatus(resource, plan.status);
    for (const event of plan.events) await this.event(current, event);
    try {
      for (const action of plan.actions) current = await this.perform(current, action);
    } catch (err) {
      if (!isConflict(err) && !this.deps.signal.aborted) {
        const message = (err as Error).message;
        await this.event(current, { type: 'Warning', reason: 'Error', message });
        await this.writeStatus(current, this.failedStatus(current, message)).catch(() => undefined);
      }
      throw err;
    }
    return current;
  }

  /** The status that reports a failed step, as the kind reports one. */
  protected abstract failedStatus(resource: R, message: string): R['status'];

  /** Replaces the status when it changed, with the object's resourceVersion: a concurrent write is a 409, retried. */
  protected async writeStatus(resource: R, status: R['status']): Promise<R> {
    if (canonicalJson(status) === canonicalJson(resource.status ?? {})) return resource;
    const { namespace, name } = resource.metadata;
    const written = await this.deps.client.replace<R>(this.path(namespace, name, 'status'), { ...resource, status });
    this.remember(written);
    return written;
  }

  protected async event(resource: R, event: ReconcileEvent): Promise<void> {
    try {
      await this.deps.events.record(resource, event);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, reason: event.reason }, 'could not record an event');
    }
  }

  protected async addFinalizer(resource: R): Promise<R> {
    const finalizers = resource.metadata.finalizers;
    // `test` makes it a no-op conflict if someone changed the list meanwhile.
    const patch = finalizers
      ? [
          { op: 'test', path: '/metadata/finalizers', value: finalizers },
          { op: 'add', path: '/metadata/finalizers/-', value: this.resourceKind.finalizer },
        ]
      : [{ op: 'add', path: '/metadata/finalizers', value: [this.resourceKind.finalizer] }];
    const patched = await this.deps.client.patch<R>(
      this.path(resource.metadata.namespace, resource.metadata.name),
      'json',
      patch,
    );
    this.remember(patched);
    return patched;
  }

  protected async removeFinalizer(resource: R): Promise<R> {
    const finalizers = resource.metadata.finalizers ?? [];
    const index = finalizers.indexOf(this.resourceKind.finalizer);
    if (index < 0) return resource;
    try {
      return await this.deps.client.patch<R>(this.path(resource.metadata.namespace, resource.metadata.name), 'json', [
        { op: 'test', path: `/metadata/finalizers/${index}`, value: this.resourceKind.finalizer },
        { op: 'remove', path: `/metadata/finalizers/${index}` },
      ]);
    } catch (err) {
      if (isNotFound(err)) return resource;
      throw err;
    }
  }

  /** The FlinkStateSnapshots naming this job (from the controller's `snapshotsWatch`). */
  protected ownedSnapshots(resource: R): OwnedSnapshot[] {
    const { namespace, name } = resource.metadata;
    const kind = this.resourceKind.kind as 'FlinkDeployment' | 'FlinkSessionJob';
    return ownedSnapshots(this.deps.caches.list(SNAPSHOTS_CACHE, namespace) as unknown as Json[], { kind, name });
  }

  /** Carries out a snapshot action on this job's Flink (trigger, dispose) or on its FlinkStateSnapshots. */
  protected async runSnapshotAction(resource: R, flink: FlinkRestClient, action: SnapshotAction): Promise<void> {
    const { namespace, name } = resource.metadata;
    const snapshots = objectPath(API_VERSION, FLINK_STATE_SNAPSHOT.plural, namespace);
    switch (action.kind) {
      case 'trigger-snapshot':
        return flink.triggerSnapshot(action.snapshot, action.jobId, action.triggerId);
      case 'dispose-savepoints':
        for (const path of action.paths) await flink.disposeSavepoint(path);
        return;
      case 'create-snapshot': {
        const owner = {
          kind: this.resourceKind.kind as 'FlinkDeployment' | 'FlinkSessionJob',
          name,
          namespace,
          uid: resource.metadata.uid,
        };
        const created = await this.deps.client.create(
          snapshots,
          newSnapshotResource(owner, action.request, Date.now()) as KubeObject,
        );
        this.deps.log.info(
          { namespace, name, snapshot: created.metadata?.name, triggerType: action.request.triggerType },
          `${action.request.snapshot} requested`,
        );
        return;
      }
      case 'delete-snapshots':
        for (const snapshot of action.names) {
          await this.deps.client.delete(`${snapshots}/${snapshot}`).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
        }
        return;
    }
  }

  private remember(object: KubeObject): void {
    this.freshness.wrote(`${object.metadata!.namespace}/${object.metadata!.name}`, object.metadata!.resourceVersion);
  }
}

/** Asks Flink about the snapshots a job's status says are in flight (only while the job runs). */
export async function observeSnapshots(
  flink: FlinkRestClient,
  job: JobStatus | undefined,
): Promise<SnapshotProgress[]> {
  if (!job?.jobId || job.state !== 'RUNNING') return [];
  const inFlight = [
    ['savepoint', job.savepointInfo?.triggerId],
    ['checkpoint', job.checkpointInfo?.triggerId],
  ] as const;
  const asked = inFlight.filter((entry): entry is readonly [SnapshotKind, string] => entry[1] !== undefined);
  return Promise.all(asked.map(([kind, triggerId]) => flink.snapshotProgress(kind, job.jobId!, triggerId)));
}

/** The watch that lets a job controller see the FlinkStateSnapshots naming its kind; their changes wake that job. */
export function snapshotsWatch(kind: 'FlinkDeployment' | 'FlinkSessionJob'): WatchSource {
  return {
    name: SNAPSHOTS_CACHE,
    start: flinkStateSnapshotCache,
    keysOf: (obj) => {
      const reference = jobReferenceOf(obj as unknown as Json);
      return reference?.kind === kind ? [`${obj.metadata?.namespace}/${reference.name}`] : [];
    },
  };
}
