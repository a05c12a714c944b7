// One reconcile of one FlinkDeployment: read it and its JobManager Deployment (from the caches, live when they are
// behind), ask Flink what runs, let the pure planner decide (api/reconcile/plan.ts), then write the status, emit the
// events and carry out the actions.
import { randomBytes } from 'node:crypto';
import { canonicalJson } from '../../api/spec-envelope.js';
import { GENERATION_ANNOTATION } from '../../api/cluster/objects.js';
import { isCanary } from '../../api/defaults.js';
import { CacheFreshness } from '../../api/reconcile/freshness.js';
import { observeJobManagerDeployment, type JobManagerObservation, type Observation, type RestObservation } from '../../api/reconcile/observe.js';
import { FINALIZER, planDeployment, withFailedStep, type Action, type DeploymentResource } from '../../api/reconcile/plan.js';
import { API_VERSION, FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import type { FlinkDeploymentStatus } from '../../api/types.generated.js';
import type { FlatConfig } from '../../api/flink-config.js';
import { isConflict, isNotFound, objectPath, type KubeClient, type KubeObject } from '../../kube/client.js';
import type { CacheReader } from '../runtime/controller.js';
import type { EventRecorder } from '../events.js';
import { FlinkRestClient, type RestAddresses } from '../flink-rest.js';
import type { Outcome } from '../work-queue.js';

export type FlinkDeploymentObject = KubeObject & DeploymentResource;

export interface ReconcilerDeps {
  /** Fenced by the term of leadership: nothing is written once it has ended. */
  client: KubeClient;
  events: EventRecorder;
  addresses: RestAddresses;
  operatorConfig: () => FlatConfig;
  log: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
  /** The caches of the controller's watches: `flinkdeployments` and `jobmanagers`. */
  caches: CacheReader;
  /** Aborts Flink calls in flight when the term ends. */
  signal: AbortSignal;
  flinkTimeoutMs?: number;
  /** How long a savepoint or cancel may take before the step fails (and is retried). */
  stopTimeoutMs?: number;
}

const crPath = (namespace: string, name?: string, sub?: string) => objectPath(API_VERSION, FLINK_DEPLOYMENT.plural, namespace, name, sub);

/** The names of the caches this reconciler reads (the controller's watches). */
export const CACHES = { flinkDeployments: 'flinkdeployments', jobManagers: 'jobmanagers' } as const;

export class DeploymentReconciler {
  /** When the cached copy is behind our own writes or a conflict (then the resource is read live). */
  private readonly freshness = new CacheFreshness();

  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<Outcome> {
    const key = `${namespace}/${name}`;
    const cached = this.deps.caches(CACHES.flinkDeployments, namespace, name) as FlinkDeploymentObject | undefined;
    let resource = cached && this.freshness.trust(key, cached.metadata.resourceVersion) ? cached : undefined;
    if (!resource) {
      try {
        resource = await this.deps.client.get<FlinkDeploymentObject>(crPath(namespace, name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.freshness.forget(key);
        return { requeueAfterMs: undefined }; // gone: nothing of ours is left (owner references)
      }
      this.freshness.readLive(key, resource.metadata.resourceVersion);
    }
    if (isCanary(resource)) return { requeueAfterMs: undefined };
    try {
      return await this.reconcileObject(resource);
    } catch (err) {
      if (isConflict(err)) this.freshness.conflicted(key);
      throw err;
    }
  }

  private remember(object: KubeObject): void {
    this.freshness.wrote(`${object.metadata!.namespace}/${object.metadata!.name}`, object.metadata!.resourceVersion);
  }

  private async reconcileObject(object: FlinkDeploymentObject): Promise<Outcome> {
    let resource = object;
    const observation = await this.observe(resource);
    const planFor = (r: FlinkDeploymentObject) => planDeployment({ resource: r, observation, operatorConfig: this.deps.operatorConfig(), newJobId: randomBytes(16).toString('hex') });
    let plan = planFor(resource);
    // The finalizer is a precondition, not a step worth a trip through the queue: add it and plan again at once.
    if (plan.actions.length === 1 && plan.actions[0]!.kind === 'add-finalizer') {
      resource = await this.act(resource, plan.actions[0]!);
      plan = planFor(resource);
    }

    let current = await this.writeStatus(resource, plan.status);
    for (const event of plan.events) await this.event(current, event);
    try {
      for (const action of plan.actions) current = await this.act(current, action);
    } catch (err) {
      // A conflict only means the object moved on: the retry reads it afresh; an ended term writes nothing. Any other
      // failed step is a status and an event, then a retry with the queue's backoff.
      if (!isConflict(err) && !this.deps.signal.aborted) {
        const message = (err as Error).message;
        await this.event(current, { type: 'Warning', reason: 'Error', message });
        await this.writeStatus(current, withFailedStep(current.status, message)).catch(() => undefined);
      }
      throw err;
    }
    return { requeueAfterMs: plan.requeueAfterMs };
  }

  private flink(namespace: string, name: string): FlinkRestClient {
    return new FlinkRestClient(this.deps.addresses.url(namespace, name), this.deps.flinkTimeoutMs, this.deps.signal);
  }

  private async observe(resource: FlinkDeploymentObject): Promise<Observation> {
    const { namespace, name } = resource.metadata;
    const cached = this.deps.caches(CACHES.jobManagers, namespace, name) as KubeObject | undefined;
    // The cache may not have a Deployment we created a moment ago: when the status says there is one, ask live.
    const believedThere = (resource.status?.jobManagerDeploymentStatus ?? 'MISSING') !== 'MISSING';
    const jobManager = cached || !believedThere ? observeJobManagerDeployment(cached as never) : await this.observeJobManager(namespace, name);
    const seen: Observation = { now: Date.now(), jobManager };
    if (jobManager.phase !== 'present' || !jobManager.available) return seen;
    const flink = this.flink(namespace, name);
    let rest: RestObservation;
    try {
      const [config, jobs] = await Promise.all([flink.config(), flink.jobs()]);
      rest = { reachable: true, jobs, ...config };
    } catch (err) {
      return { ...seen, rest: { reachable: false, error: (err as Error).message } };
    }
    const jobId = resource.status?.jobStatus?.jobId;
    const failed = jobId !== undefined && rest.jobs.some((j) => j.id === jobId && j.state === 'FAILED');
    // The cause is read once, when the job turns FAILED.
    if (failed && resource.status?.jobStatus?.state !== 'FAILED') {
      return { ...seen, rest, failure: await flink.failure(jobId!).catch(() => ({ type: 'org.apache.flink.runtime.JobException', message: 'The job failed' })) };
    }
    return { ...seen, rest };
  }

  private async observeJobManager(namespace: string, name: string): Promise<JobManagerObservation> {
    try {
      return observeJobManagerDeployment(await this.deps.client.get(objectPath('apps/v1', 'deployments', namespace, name)));
    } catch (err) {
      if (isNotFound(err)) return { phase: 'absent' };
      throw err;
    }
  }

  /** Replaces the status when it changed, with the object's resourceVersion: a concurrent write is a 409, retried. */
  private async writeStatus(resource: FlinkDeploymentObject, status: FlinkDeploymentStatus): Promise<FlinkDeploymentObject> {
    if (canonicalJson(status) === canonicalJson(resource.status ?? {})) return resource;
    const { namespace, name } = resource.metadata;
    const written = await this.deps.client.replace<FlinkDeploymentObject>(crPath(namespace, name, 'status'), { ...resource, status });
    this.remember(written);
    return written;
  }

  private async event(resource: FlinkDeploymentObject, event: Parameters<EventRecorder['record']>[1]): Promise<void> {
    try {
      await this.deps.events.record(resource, event);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, reason: event.reason }, 'could not record an event');
    }
  }

  private async act(resource: FlinkDeploymentObject, action: Action): Promise<FlinkDeploymentObject> {
    const { client } = this.deps;
    const { namespace, name } = resource.metadata;
    switch (action.kind) {
      case 'add-finalizer': {
        const finalizers = resource.metadata.finalizers;
        // `test` makes it a no-op conflict if someone changed the list meanwhile.
        const patch = finalizers
          ? [{ op: 'test', path: '/metadata/finalizers', value: finalizers }, { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER }]
          : [{ op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }];
        const patched = await client.patch<FlinkDeploymentObject>(crPath(namespace, name), 'json', patch);
        this.remember(patched);
        return patched;
      }
      case 'remove-finalizer': {
        const finalizers = resource.metadata.finalizers ?? [];
        const index = finalizers.indexOf(FINALIZER);
        if (index < 0) return resource;
        try {
          return await client.patch<FlinkDeploymentObject>(crPath(namespace, name), 'json', [
            { op: 'test', path: `/metadata/finalizers/${index}`, value: FINALIZER },
            { op: 'remove', path: `/metadata/finalizers/${index}` },
          ]);
        } catch (err) {
          if (isNotFound(err)) return resource;
          throw err;
        }
      }
      case 'delete-cluster': {
        await client.delete(objectPath('apps/v1', 'deployments', namespace, name), 'Foreground');
        if (action.deleteHaMetadata) {
          const path = objectPath('v1', 'configmaps', namespace);
          for (const cm of await client.list(path, `app=${name},configmap-type=high-availability`)) await client.delete(`${path}/${cm.metadata!.name}`);
        }
        return resource;
      }
      case 'deploy': {
        const jm = await this.createOrAdopt(action.objects.jobManager, (existing) => existing.metadata?.annotations?.[GENERATION_ANNOTATION] === (action.objects.jobManager.metadata as { annotations: Record<string, string> }).annotations[GENERATION_ANNOTATION]);
        const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: jm.metadata!.name!, uid: jm.metadata!.uid!, controller: true, blockOwnerDeletion: true };
        for (const dependent of action.objects.dependents) {
          const object = { ...dependent, metadata: { ...(dependent.metadata as object), ownerReferences: [owner] } } as KubeObject;
          await this.createOrReplace(object);
        }
        if (action.objects.ingress) await this.createOrReplace(action.objects.ingress as KubeObject);
        return this.writeStatus(resource, action.statusAfter);
      }
      case 'stop-job': {
        const flink = this.flink(namespace, name);
        const deadline = Date.now() + (this.deps.stopTimeoutMs ?? 300_000);
        let path: string | undefined;
        if (action.mechanism === 'savepoint') {
          path = await flink.stopWithSavepoint(action.jobId, action.drain, deadline);
        } else {
          if (action.mechanism === 'cancel') await flink.cancel(action.jobId, deadline);
          // An unknown restore point is an error (retried with backoff), never an older snapshot or none.
          path = await flink.latestCheckpoint(action.jobId).catch((err: Error) => {
            throw new Error(`cannot tell the newest checkpoint of job ${action.jobId} to restore from, so the upgrade waits: ${err.message}`);
          });
        }
        this.deps.log.info({ namespace, name, job: action.jobId, mechanism: action.mechanism, path }, 'job stopped');
        return this.writeStatus(resource, action.statusAfter(path));
      }
    }
  }

  private pathOf(object: KubeObject): string {
    const kinds: Record<string, string> = { Deployment: 'deployments', Service: 'services', ConfigMap: 'configmaps', Ingress: 'ingresses' };
    return objectPath(object.apiVersion!, kinds[object.kind!]!, object.metadata!.namespace!, object.metadata!.name);
  }

  /** Creates; an existing object that `isOurs` says is the one meant is taken as it is (a repeated step). */
  private async createOrAdopt(object: KubeObject, isOurs: (existing: KubeObject) => boolean): Promise<KubeObject> {
    const path = this.pathOf(object);
    try {
      return await this.deps.client.create(path.slice(0, path.lastIndexOf('/')), object);
    } catch (err) {
      if (!isConflict(err)) throw err;
      const existing = await this.deps.client.get(path);
      if (isOurs(existing)) return existing;
      throw new Error(`${object.kind} ${object.metadata!.name} exists from an earlier deployment; retrying once it is gone`);
    }
  }

  /** Creates, or replaces what is left of an earlier cluster (same name, other owner). */
  private async createOrReplace(object: KubeObject): Promise<void> {
    const path = this.pathOf(object);
    try {
      await this.deps.client.create(path.slice(0, path.lastIndexOf('/')), object);
    } catch (err) {
      if (!isConflict(err)) throw err;
      const existing = await this.deps.client.get(path);
      const spec = object.kind === 'Service' ? { ...(object.spec as object), clusterIP: (existing.spec as { clusterIP?: string }).clusterIP } : object.spec;
      await this.deps.client.replace(path, { ...object, ...(spec ? { spec } : {}), metadata: { ...object.metadata, resourceVersion: existing.metadata!.resourceVersion } });
    }
  }
}
