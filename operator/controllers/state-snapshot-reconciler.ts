// One reconcile of one FlinkStateSnapshot: find the job it names (from the caches of FlinkDeployments and
// FlinkSessionJobs), ask that job's Flink about the trigger in flight, let the pure planner decide
// (api/reconcile/state-snapshot.ts), then write the status and labels and trigger or dispose through Flink.
import {
  failed,
  locateSnapshotJob,
  planStateSnapshot,
  runningJob,
  snapshotKindOf,
  STATE_SNAPSHOT_FINALIZER,
  type StateSnapshotAction,
  type StateSnapshotPlan,
  type StateSnapshotResource,
  type SnapshotJob,
} from '../../api/reconcile/state-snapshot.js';
import type { SnapshotProgress } from '../../api/reconcile/snapshots.js';
import { FLINK_STATE_SNAPSHOT } from '../../api/schema/crd.js';
import type { Json } from '../../api/validation/access.js';
import { jobReferenceOf, type JobReference } from '../../api/validation/state-snapshot.js';
import { FlinkRestClient, FlinkRestError } from '../flink-rest.js';
import {
  FlinkResourceReconciler,
  type OwnAction,
  type FlinkResourceObject,
  type ReconcilerDeps,
} from './resource-reconciler.js';

export type FlinkStateSnapshotObject = FlinkResourceObject & StateSnapshotResource;

export const SNAPSHOT_CACHES = {
  snapshots: 'flinkstatesnapshots',
  deployments: 'flinkdeployments',
  sessionJobs: 'flinksessionjobs',
} as const;

interface SnapshotObservation {
  job: SnapshotJob;
  progress?: SnapshotProgress;
  tasksRunning?: boolean;
  now: number;
}

export class StateSnapshotReconciler extends FlinkResourceReconciler<
  FlinkStateSnapshotObject,
  SnapshotObservation,
  StateSnapshotAction
> {
  constructor(deps: ReconcilerDeps) {
    super(deps, {
      kind: 'FlinkStateSnapshot',
      plural: FLINK_STATE_SNAPSHOT.plural,
      cache: SNAPSHOT_CACHES.snapshots,
      finalizer: STATE_SNAPSHOT_FINALIZER,
    });
  }

  protected plan(
    resource: FlinkStateSnapshotObject,
    observation: SnapshotObservation,
    newTriggerId: string,
  ): StateSnapshotPlan {
    return planStateSnapshot({ snapshot: resource, ...observation, newTriggerId });
  }

  protected async observe(resource: FlinkStateSnapshotObject): Promise<SnapshotObservation> {
    const now = Date.now();
    const reference = jobReferenceOf(resource as unknown as Json);
    if (!reference) return { now, job: { target: { state: 'missing' } } };
    const job = this.job(resource.metadata.namespace, reference);
    const jobId = runningJob(job);
    const state = resource.status?.state ?? 'TRIGGER_PENDING';
    if (!jobId || resource.metadata.deletionTimestamp) return { now, job };
    if (state === 'TRIGGER_PENDING')
      return {
        now,
        job,
        tasksRunning: (await this.flink(resource, job).jobs()).some((j) => j.id === jobId && j.allTasksRunning),
      };
    if (state !== 'IN_PROGRESS' || !resource.status?.triggerId) return { now, job };
    return {
      now,
      job,
      progress: await this.flink(resource, job).snapshotProgress(
        snapshotKindOf(resource.spec),
        jobId,
        resource.status.triggerId,
      ),
    };
  }

  private job(namespace: string, reference: JobReference): SnapshotJob {
    const { caches, operatorConfig } = this.deps;
    const lookup = (kind: JobReference['kind'], name: string) =>
      caches.get(
        kind === 'FlinkDeployment' ? SNAPSHOT_CACHES.deployments : SNAPSHOT_CACHES.sessionJobs,
        namespace,
        name,
      ) as Json | undefined;
    return locateSnapshotJob(reference, lookup, operatorConfig());
  }

  private flink(resource: FlinkStateSnapshotObject, job: SnapshotJob): FlinkRestClient {
    return new FlinkRestClient(
      this.deps.addresses.url(resource.metadata.namespace, job.cluster ?? ''),
      this.deps.flinkTimeoutMs,
      this.deps.signal,
    );
  }

  protected async act(
    resource: FlinkStateSnapshotObject,
    action: OwnAction<StateSnapshotAction>,
  ): Promise<FlinkStateSnapshotObject> {
    const { namespace, name } = resource.metadata;
    switch (action.kind) {
      case 'label':
        return this.deps.client.patch<FlinkStateSnapshotObject>(this.path(namespace, name), 'merge', {
          metadata: { labels: action.labels },
        });
      case 'trigger':
        return this.trigger(resource, action);
      case 'dispose': {
        await this.flink(resource, this.job(namespace, action.reference)).disposeSavepoint(action.path);
        this.deps.log.info({ namespace, name, path: action.path }, 'savepoint disposed of');
        return resource;
      }
    }
  }

  /**
   * Asks Flink for the snapshot under the planned trigger id. Flink refusing it is a failed attempt like any other
   * (counted against `backoffLimit`); no answer at all is not — the next look asks again under the same id.
   */
  private async trigger(
    resource: FlinkStateSnapshotObject,
    action: Extract<StateSnapshotAction, { kind: 'trigger' }>,
  ): Promise<FlinkStateSnapshotObject> {
    try {
      await this.flink(resource, this.job(resource.metadata.namespace, action.reference)).triggerSnapshot(
        action.snapshot,
        action.jobId,
        action.triggerId,
        action,
      );
      return resource;
    } catch (err) {
      if (!(err instanceof FlinkRestError) || err.status === undefined) throw err;
      const plan: StateSnapshotPlan = {
        status: { ...resource.status },
        events: [],
        actions: [],
        requeueAfterMs: undefined,
      };
      failed(
        { snapshot: resource, now: Date.now() },
        plan,
        `Flink refused the ${action.snapshot}: ${err.detail || err.message}`,
      );
      for (const event of plan.events) await this.event(resource, event);
      return this.writeStatus(resource, plan.status);
    }
  }

  protected failedStatus(resource: FlinkStateSnapshotObject, message: string): FlinkStateSnapshotObject['status'] {
    return { ...resource.status, error: message };
  }
}
