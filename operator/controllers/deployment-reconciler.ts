// One reconcile of one FlinkDeployment: read it and its JobManager Deployment (from the caches, live when they are
// behind), ask Flink what runs, let the pure planner decide (api/reconcile/plan.ts), then write the status, emit the
// events and carry out the actions.
import { GENERATION_ANNOTATION, jobManagerSelector } from '../../api/cluster/objects.js';
import { isCanary } from '../../api/defaults.js';
import {
  containerFailure,
  crashLogWanted,
  CRASH_LOG_BYTES,
  CRASH_LOG_LINES,
  observeJobManagerDeployment,
  withLogCause,
  type ContainerFailure,
  type JobManagerObservation,
  type PodContainers,
  type AutoscalerObservation,
  type Observation,
  type RestObservation,
} from '../../api/reconcile/observe.js';
import {
  FINALIZER,
  planDeployment,
  type Action,
  type DeploymentResource,
  type Plan,
} from '../../api/reconcile/plan.js';
import { occupiesSession } from '../../api/reconcile/session-job.js';
import type { FlinkSessionJobObject } from '../../kube/flink-resources.js';
import { FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import { isConflict, isNotFound, objectPath, type KubeObject } from '../../kube/client.js';
import { FlinkRestClient, FlinkRestError, type FlinkVersion } from '../flink-rest.js';
import { autoscalerConfig } from '../../api/autoscaler/options.js';
import { readJobDetails } from '../../api/autoscaler/sample.js';
import { sampleSchedule } from '../../api/autoscaler/cycle.js';
import { OVERRIDES_KEY, stateConfigMapName } from '../../api/autoscaler/state.js';
import { option, OPTIONS } from '../../api/operator-options.js';
import { AutoscalerMetrics } from './autoscaler-metrics.js';
import { isHighAvailabilityEnabled } from '../../api/flink-config.js';
import { haConfigMapSelector, holdsJob, isHaConfigMap, isJobGraphKey } from '../../api/cluster/ha-metadata.js';
import { deploymentConfig } from '../../api/validation/index.js';
import type { Json } from '../../api/validation/access.js';
import { failedStepStatus } from '../../api/reconcile/context.js';
import {
  FlinkResourceReconciler,
  type OwnAction,
  observeSnapshots,
  type FlinkResourceObject,
  type ReconcilerDeps,
} from './resource-reconciler.js';

export type FlinkDeploymentObject = KubeObject & DeploymentResource & FlinkResourceObject;

/** The names of the caches this reconciler reads (the controller's watches). */
export const CACHES = {
  flinkDeployments: 'flinkdeployments',
  jobManagers: 'jobmanagers',
  sessionJobs: 'flinksessionjobs',
} as const;

export class DeploymentReconciler extends FlinkResourceReconciler<FlinkDeploymentObject, Observation, Action> {
  private readonly flinkVersions = new WeakMap<KubeObject, FlinkVersion>();
  private readonly metrics: AutoscalerMetrics;

  constructor(deps: ReconcilerDeps) {
    super(deps, {
      kind: 'FlinkDeployment',
      plural: FLINK_DEPLOYMENT.plural,
      cache: CACHES.flinkDeployments,
      finalizer: FINALIZER,
    });
    this.metrics = new AutoscalerMetrics(deps.signal);
  }

  protected override ignored(resource: FlinkDeploymentObject): boolean {
    return isCanary(resource);
  }

  protected failedStatus(resource: FlinkDeploymentObject, message: string): FlinkDeploymentObject['status'] {
    return failedStepStatus(resource.status, 'FlinkDeployment', message);
  }

  protected plan(resource: FlinkDeploymentObject, observation: Observation, newJobId: string): Plan {
    return planDeployment({ resource, observation, operatorConfig: this.deps.operatorConfig(), newJobId });
  }

  private flink(namespace: string, name: string): FlinkRestClient {
    return new FlinkRestClient(this.deps.addresses.url(namespace, name), this.deps.flinkTimeoutMs, this.deps.signal);
  }

  protected async observe(resource: FlinkDeploymentObject): Promise<Observation> {
    const { namespace, name } = resource.metadata;
    const cached = this.deps.caches.get(CACHES.jobManagers, namespace, name) as KubeObject | undefined;
    // The cache may not have a Deployment we created a moment ago: when the status says there is one, ask live.
    const believedThere = (resource.status?.jobManagerDeploymentStatus ?? 'MISSING') !== 'MISSING';
    const jobManager =
      cached || !believedThere
        ? observeJobManagerDeployment(cached as never)
        : await this.observeJobManager(namespace, name);
    if (jobManager.phase === 'present' && !jobManager.available && !jobManager.replicaFailure) {
      const failure = await this.containerFailure(resource);
      if (failure) jobManager.replicaFailure = failure;
    }
    const seen: Observation = {
      now: Date.now(),
      jobManager,
      sessionJobs: this.sessionJobs(resource),
      ownedSnapshots: this.ownedSnapshots(resource),
    };
    if (
      jobManager.phase === 'absent' &&
      isHighAvailabilityEnabled(deploymentConfig(this.deps.operatorConfig(), resource as unknown as Json))
    ) {
      seen.haMetadata = (await this.haConfigMaps(namespace, name)).some(
        (cm) => !cm.metadata?.deletionTimestamp && holdsJob(cm.metadata!.name!),
      );
    }
    if (jobManager.phase !== 'present' || !jobManager.available) return seen;
    const flink = this.flink(namespace, name);
    let rest: RestObservation;
    try {
      const [config, jobs] = await Promise.all([this.flinkVersion(flink, cached), flink.jobs()]);
      rest = { reachable: true, jobs, ...config };
    } catch (err) {
      return { ...seen, rest: { reachable: false, error: (err as Error).message } };
    }
    const jobId = resource.status?.jobStatus?.jobId;
    const snapshots = await observeSnapshots(flink, resource.status?.jobStatus);
    if (snapshots.length > 0) seen.snapshots = snapshots;
    const failed = jobId !== undefined && rest.jobs.some((j) => j.id === jobId && j.state === 'FAILED');
    // The cause is read once, when the job turns FAILED.
    if (failed && resource.status?.jobStatus?.state !== 'FAILED') {
      return { ...seen, rest, failure: await flink.failure(jobId!) };
    }
    const running = jobId !== undefined && rest.jobs.some((j) => j.id === jobId && j.state === 'RUNNING');
    const autoscaler = running ? await this.observeAutoscaler(resource, flink, jobId) : undefined;
    return { ...seen, rest, ...(autoscaler ? { autoscaler } : {}) };
  }

  /**
   * What the autoscaler and an in-place rescale need of a running job: the autoscaler's stored state, the job's
   * vertices as Flink runs them and, when one is due, a sample of its metrics.
   */
  private async observeAutoscaler(
    resource: FlinkDeploymentObject,
    flink: FlinkRestClient,
    jobId: string,
  ): Promise<AutoscalerObservation | undefined> {
    const conf = deploymentConfig(this.deps.operatorConfig(), resource as unknown as Json);
    const c = autoscalerConfig(conf);
    const involved = c.enabled || resource.status?.autoscaler !== undefined;
    if (!involved && conf[OVERRIDES_KEY] === undefined) return undefined;
    const { namespace, name } = resource.metadata;
    const seen: AutoscalerObservation = {};
    if (involved) {
      const stored = await this.deps.client
        .get<KubeObject & { data?: Record<string, string> }>(
          objectPath('v1', 'configmaps', namespace, stateConfigMapName(name)),
        )
        .catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
      if (stored) seen.stored = { data: stored.data ?? {}, resourceVersion: stored.metadata!.resourceVersion! };
    }
    const details = await flink.jobDetails(jobId);
    const view = readJobDetails(details as Json);
    if (!view) return seen;
    seen.view = view;
    const now = Date.now();
    const { due, budgetMs } = sampleSchedule(seen.stored?.data, c, option(conf, OPTIONS.reconcileInterval), now);
    if (due) seen.sample = await this.metrics.collect(flink.baseUrl, jobId, details, view, c, budgetMs, now);
    return seen;
  }

  /**
   * A JobManager's Flink version does not change while its Deployment does not: asked once per Deployment object the
   * cache holds (an upgrade, or the JobManager going unavailable and back, brings a new object), not on every look.
   */
  private async flinkVersion(flink: FlinkRestClient, jobManager: KubeObject | undefined): Promise<FlinkVersion> {
    const known = jobManager && this.flinkVersions.get(jobManager);
    if (known) return known;
    const answer = await flink.config();
    if (jobManager) this.flinkVersions.set(jobManager, answer);
    return answer;
  }

  /**
   * Only a JobManager that is not available has its pods looked at (upstream's checkContainerErrors); a crash loop
   * newly seen has its cause read from the crashed container's log, which is no error when it cannot be read.
   */
  private async containerFailure(resource: FlinkDeploymentObject): Promise<ContainerFailure | undefined> {
    const { namespace, name } = resource.metadata;
    const pods = await this.deps.client.list<KubeObject & PodContainers>(
      objectPath('v1', 'pods', namespace),
      jobManagerSelector(name, resource.spec),
    );
    const failure = containerFailure(pods);
    if (!crashLogWanted(failure, resource.status)) return failure;
    const query = `?container=${encodeURIComponent(failure.container)}&previous=true&tailLines=${CRASH_LOG_LINES}&limitBytes=${CRASH_LOG_BYTES}`;
    try {
      return withLogCause(
        failure,
        await this.deps.client.text(`${objectPath('v1', 'pods', namespace, failure.pod, 'log')}${query}`),
      );
    } catch (err) {
      this.deps.log.info(
        { namespace, name, pod: failure.pod, err: (err as Error).message },
        'the crashed JobManager log could not be read',
      );
      return failure;
    }
  }

  /** The FlinkSessionJobs naming this cluster, from the cache of the session-job watch (a session cluster only). */
  private sessionJobs(resource: FlinkDeploymentObject): Observation['sessionJobs'] {
    if (resource.spec.job) return undefined;
    const { namespace, name } = resource.metadata;
    return (this.deps.caches.list(CACHES.sessionJobs, namespace) as FlinkSessionJobObject[])
      .filter((j) => j.spec?.deploymentName === name)
      .map((j) => ({ name: j.metadata!.name!, occupying: occupiesSession(j.status) }));
  }

  private async observeJobManager(namespace: string, name: string): Promise<JobManagerObservation> {
    try {
      return observeJobManagerDeployment(
        await this.deps.client.get(objectPath('apps/v1', 'deployments', namespace, name)),
      );
    } catch (err) {
      if (isNotFound(err)) return { phase: 'absent' };
      throw err;
    }
  }

  protected async act(resource: FlinkDeploymentObject, action: OwnAction<Action>): Promise<FlinkDeploymentObject> {
    const { client } = this.deps;
    const { namespace, name } = resource.metadata;
    switch (action.kind) {
      case 'delete-cluster': {
        await client.delete(objectPath('apps/v1', 'deployments', namespace, name), 'Foreground');
        if (action.deleteHaMetadata) {
          for (const cm of await this.haConfigMaps(namespace, name))
            await client.delete(objectPath('v1', 'configmaps', namespace, cm.metadata!.name));
        }
        return resource;
      }
      case 'deploy': {
        if (action.deleteJobGraphs) await this.deleteJobGraphs(namespace, name);
        const jm = await this.createOrAdopt(
          action.objects.jobManager,
          (existing) =>
            existing.metadata?.annotations?.[GENERATION_ANNOTATION] ===
            (action.objects.jobManager.metadata as { annotations: Record<string, string> }).annotations[
              GENERATION_ANNOTATION
            ],
        );
        const owner = {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: jm.metadata!.name!,
          uid: jm.metadata!.uid!,
          controller: true,
          blockOwnerDeletion: true,
        };
        for (const dependent of action.objects.dependents) {
          const object = {
            ...dependent,
            metadata: { ...(dependent.metadata as object), ownerReferences: [owner] },
          } as KubeObject;
          await this.createOrReplace(object);
        }
        if (action.objects.ingress) await this.createOrReplace(action.objects.ingress as KubeObject);
        return this.writeStatus(resource, action.statusAfter);
      }
      case 'trigger-snapshot':
      case 'dispose-savepoints':
      case 'create-snapshot':
      case 'delete-snapshots':
        await this.runSnapshotAction(resource, this.flink(namespace, name), action);
        return resource;
      case 'save-autoscaler-state':
        await this.saveAutoscalerState(resource, action.data, action.resourceVersion);
        return resource;
      case 'rescale-in-place':
        return this.rescaleInPlace(resource, action);
      case 'stop-job': {
        const deadline = Date.now() + (this.deps.stopTimeoutMs ?? 300_000);
        const path = await this.flink(namespace, name).stop(action, deadline);
        this.deps.log.info({ namespace, name, job: action.jobId, mechanism: action.mechanism, path }, 'job stopped');
        if (action.recordSavepoint && path)
          await this.runSnapshotAction(resource, this.flink(namespace, name), {
            kind: 'create-snapshot',
            request: { ...action.recordSavepoint, path },
          });
        return this.writeStatus(resource, action.statusAfter(path));
      }
    }
  }

  /** The autoscaler's ConfigMap, owned by the resource (upstream's labels); a stale resourceVersion is a 409, retried. */
  private async saveAutoscalerState(
    resource: FlinkDeploymentObject,
    data: Record<string, string>,
    resourceVersion: string | undefined,
  ): Promise<void> {
    const { namespace, name, uid } = resource.metadata;
    const configMap: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: stateConfigMapName(name),
        namespace,
        labels: { component: 'autoscaler', app: name },
        ownerReferences: [{ apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name, uid }],
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data,
    } as KubeObject;
    if (resourceVersion)
      await this.deps.client.replace(objectPath('v1', 'configmaps', namespace, stateConfigMapName(name)), configMap);
    else await this.deps.client.create(objectPath('v1', 'configmaps', namespace), configMap);
  }

  /**
   * Raises each vertex's upper bound to its new parallelism — the lower bound only ever comes down, so the job never
   * waits for slots it cannot get (upstream NativeFlinkService#scale). Flink refusing is no error: the next pass
   * upgrades the job instead.
   */
  private async rescaleInPlace(
    resource: FlinkDeploymentObject,
    action: Extract<Action, { kind: 'rescale-in-place' }>,
  ): Promise<FlinkDeploymentObject> {
    const { namespace, name } = resource.metadata;
    const flink = this.flink(namespace, name);
    try {
      const current = await flink.resourceRequirements(action.jobId);
      for (const [id, p] of Object.entries(action.parallelism)) {
        const bounds = current[id]?.parallelism;
        if (!bounds) continue;
        current[id] = { parallelism: { lowerBound: Math.min(p, bounds.lowerBound), upperBound: p } };
      }
      await flink.setResourceRequirements(action.jobId, current);
      return resource;
    } catch (err) {
      if (!(err instanceof FlinkRestError) || this.deps.signal.aborted) throw err;
      const reason = `Flink refused the new resource requirements: ${err.message}`;
      await this.event(resource, { type: 'Warning', reason: 'RescaleNotApplied', message: reason });
      return this.writeStatus(resource, action.statusIfRefused(reason));
    }
  }

  /** The ConfigMaps Flink's Kubernetes HA services keep for a cluster. */
  private async haConfigMaps(namespace: string, name: string): Promise<KubeObject[]> {
    const labelled = await this.deps.client.list(objectPath('v1', 'configmaps', namespace), haConfigMapSelector(name));
    return labelled.filter((cm) => isHaConfigMap(cm.metadata!.name!, name));
  }

  /** Removes the job graphs from the cluster's HA ConfigMaps, each replaced with its resourceVersion (a 409 retries). */
  private async deleteJobGraphs(namespace: string, name: string): Promise<void> {
    for (const cm of await this.haConfigMaps(namespace, name)) {
      const data = (cm as { data?: Record<string, string> }).data ?? {};
      const kept = Object.fromEntries(Object.entries(data).filter(([key]) => !isJobGraphKey(key)));
      if (Object.keys(kept).length === Object.keys(data).length) continue;
      await this.deps.client.replace(objectPath('v1', 'configmaps', namespace, cm.metadata!.name), {
        ...cm,
        data: kept,
      });
      this.deps.log.info({ namespace, name, configMap: cm.metadata!.name }, 'job graph deleted from HA metadata');
    }
  }

  private pathOf(object: KubeObject): string {
    const kinds: Record<string, string> = {
      Deployment: 'deployments',
      Service: 'services',
      ConfigMap: 'configmaps',
      Ingress: 'ingresses',
    };
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
      throw new Error(
        `${object.kind} ${object.metadata!.name} exists from an earlier deployment; retrying once it is gone`,
      );
    }
  }

  /**
   * Creates, or replaces what is left of an earlier cluster (same name, other owner). What is left may be going: the
   * garbage collector deletes it once its old owner is gone, between our look and our replace — then it is created.
   */
  private async createOrReplace(object: KubeObject, attempts = 3): Promise<void> {
    const path = this.pathOf(object);
    try {
      await this.deps.client.create(path.slice(0, path.lastIndexOf('/')), object);
    } catch (err) {
      if (!isConflict(err)) throw err;
      try {
        const existing = await this.deps.client.get(path);
        const spec =
          object.kind === 'Service'
            ? { ...(object.spec as object), clusterIP: (existing.spec as { clusterIP?: string }).clusterIP }
            : object.spec;
        await this.deps.client.replace(path, {
          ...object,
          ...(spec ? { spec } : {}),
          metadata: { ...object.metadata, resourceVersion: existing.metadata!.resourceVersion },
        });
      } catch (gone) {
        if (!isNotFound(gone) || attempts <= 1) throw gone;
        await this.createOrReplace(object, attempts - 1);
      }
    }
  }
}
