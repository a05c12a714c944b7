// What every planner of api/reconcile/planners/ shares: the resource and what was observed, the status being
// built, the events so far, and the three ways a plan ends — as it is, after a deployment, or after recording a spec.
import { clusterObjects, type ClusterObjects } from '../cluster/objects.js';
import { buildFlinkConfiguration, taskManagerReplicas } from '../cluster/flink-configuration.js';
import { isHighAvailabilityEnabled, type FlatConfig } from '../flink-config.js';
import { deriveLifecycleState } from '../lifecycle.js';
import { option, OPTIONS } from '../operator-options.js';
import { lastReconciledSpec, writeSpecEnvelope, type SpecEnvelope } from '../spec-envelope.js';
import type { FlinkDeploymentSpec, FlinkDeploymentStatus, FlinkSessionJobStatus } from '../types.generated.js';
import { asObject, type Json } from '../validation/access.js';
import { deploymentConfig } from '../validation/index.js';
import { errorDocument, isTerminal, jobEnded, observeStatus, withJob, type Observation } from './observe.js';
import type { SnapshotAction, SnapshotRequest } from './snapshots.js';

export const FINALIZER = 'flinkdeployments.flink.apache.org/finalizer';

export const VALIDATION_ERROR_TYPE = 'org.apache.flink.kubernetes.operator.exception.ValidationException';
export const RECONCILIATION_ERROR_TYPE = 'org.apache.flink.kubernetes.operator.exception.ReconciliationException';
export const UPGRADE_FAILURE_TYPE = 'org.apache.flink.kubernetes.operator.exception.UpgradeFailureException';
export const MANUAL_RESTORE_MESSAGE =
  'JobManager deployment is missing and HA metadata is not available to make stateful upgrades. It is possible that the job has finished or terminally failed, or the configmaps have been deleted. Manual restore required.';

/** A job kind's status after a step failed: upstream's error document, and the lifecycle state it implies. */
export function failedStepStatus<S extends FlinkDeploymentStatus | FlinkSessionJobStatus>(
  status: S | undefined,
  kind: 'FlinkDeployment' | 'FlinkSessionJob',
  message: string,
): S {
  const failed = { ...status, error: errorDocument(RECONCILIATION_ERROR_TYPE, message) } as S;
  return { ...failed, lifecycleState: deriveLifecycleState(failed, kind) };
}

export interface ReconcileEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** How a running job is stopped before its cluster goes, and where the state to restore then comes from. */
export type StopMechanism =
  | 'savepoint' // stop-with-savepoint: restore from the savepoint
  | 'cancel' // cancel, then restore from the latest retained checkpoint
  | 'latest-checkpoint'; // the job is already over: restore from its latest checkpoint or savepoint

/**
 * What the I/O edge needs to stop a job. `restorePoint`: after a cancel, or of a job that ended, read its newest
 * checkpoint — no sooner than `checkpointStatsTtlMs` after it ended, as Flink's REST API answers checkpoint questions
 * from a cache that old, and a stale answer can name a checkpoint a later one has already replaced and deleted.
 */
export interface StopJob {
  jobId: string;
  mechanism: StopMechanism;
  drain: boolean;
  restorePoint: boolean;
  checkpointStatsTtlMs: number;
}

export type Action =
  | { kind: 'add-finalizer' }
  | { kind: 'remove-finalizer' }
  /**
   * Creates the cluster's objects. With Kubernetes HA, the job graphs left in its HA ConfigMaps are deleted first
   * (upstream does the same): the new JobManager runs the new program, and only checkpoint pointers carry over.
   */
  | { kind: 'deploy'; objects: ClusterObjects; deleteJobGraphs: boolean; statusAfter: FlinkDeploymentStatus }
  /** Deletes the JobManager Deployment (and so the whole cluster); HA metadata too unless it must survive. */
  | { kind: 'delete-cluster'; deleteHaMetadata: boolean }
  | ({
      kind: 'stop-job';
      recordSavepoint?: SnapshotRequest;
      statusAfter: (snapshotPath: string | undefined) => FlinkDeploymentStatus;
    } & StopJob)
  /** Writes the autoscaler's state to its ConfigMap (created owned by the resource; replaced at `resourceVersion`). */
  | { kind: 'save-autoscaler-state'; data: Record<string, string>; resourceVersion: string | undefined }
  /**
   * Asks the running job's adaptive scheduler for new parallelisms (`PUT /jobs/:id/resource-requirements`); when
   * Flink refuses, `statusIfRefused` (with the reason filled in) makes the next pass upgrade instead.
   */
  | {
      kind: 'rescale-in-place';
      jobId: string;
      parallelism: Record<string, number>;
      statusIfRefused: (reason: string) => FlinkDeploymentStatus;
    }
  | SnapshotAction;

export interface Plan {
  /** Written before the actions run, when it differs from the stored status. */
  status: FlinkDeploymentStatus;
  events: ReconcileEvent[];
  actions: Action[];
  /** Look again after this long; undefined waits for the next change to the resource. */
  requeueAfterMs: number | undefined;
}

export interface DeploymentResource {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec: FlinkDeploymentSpec;
  status?: FlinkDeploymentStatus;
}

export interface PlanInput {
  resource: DeploymentResource;
  observation: Observation;
  /** The operator's own configuration (`--config`). */
  operatorConfig: FlatConfig;
  /** A fresh 32-hex id, used if this step deploys a job (its job id) or triggers a snapshot (its trigger id). */
  newJobId: string;
}

export interface Timing {
  reconcileMs: number;
  progressCheckMs: number;
}

/** Upstream's reconcile and progress-check intervals, overridable per resource in `spec.flinkConfiguration`. */
export function timing(conf: FlatConfig): Timing {
  return {
    reconcileMs: option(conf, OPTIONS.reconcileInterval),
    progressCheckMs: option(conf, OPTIONS.progressCheckInterval),
  };
}

/**
 * How soon to ask Flink again while a change settles (`changedAt`: when it was recorded). A cluster or job just
 * started usually settles within seconds, and a user waits for it: asked every half second at first, then less
 * often as the wait grows (a twentieth of it), and at least once per progress-check interval.
 */
export function settlingCheckMs(timing: Timing, changedAt: number | undefined, now: number): number {
  const since = changedAt === undefined ? Infinity : Math.max(0, now - changedAt);
  return Math.min(timing.progressCheckMs, Math.max(500, Math.round(since / 20)));
}

type PlanParts = {
  status?: FlinkDeploymentStatus;
  events?: ReconcileEvent[];
  actions?: Action[];
  requeueAfterMs?: number | undefined;
};

/** The state one planning pass builds up; planners read it, add to `status` and `events`, and end with `plan()`. */
export class PlanContext {
  readonly name: string;
  readonly namespace: string;
  /** The resource's effective configuration (operator defaults and its own `flinkConfiguration`). */
  readonly conf: FlatConfig;
  readonly timing: Timing;
  status: FlinkDeploymentStatus;
  readonly events: ReconcileEvent[] = [];
  /** Actions every plan of this pass starts with (the autoscaler's state). */
  readonly actions: Action[] = [];
  /** The spec to act on: the user's, or the last valid one while the user's is invalid. */
  spec: Json;
  /** The generation recorded with a deployment (the last valid one while the user's spec is invalid). */
  deployGeneration: number;
  /** A validation error to keep in the status whatever the step writes. */
  keepError: string | undefined;

  constructor(readonly input: PlanInput) {
    const { resource, observation } = input;
    this.name = resource.metadata.name;
    this.namespace = resource.metadata.namespace;
    this.conf = deploymentConfig(input.operatorConfig, resource as unknown as Json);
    this.timing = timing(this.conf);
    this.spec = resource.spec as Json;
    this.deployGeneration = resource.metadata.generation;
    const observed = observeStatus(this.name, resource.metadata.generation, resource.status, observation);
    this.status = observed.status;
    if (observed.jobTransition?.from) {
      this.events.push({
        type: 'Normal',
        reason: 'JobStatusChanged',
        message: `Job status changed from ${observed.jobTransition.from} to ${observed.jobTransition.to}`,
      });
    }
    if (observed.jobManagerLost)
      this.events.push({ type: 'Warning', reason: 'Missing', message: 'Missing JobManager deployment' });
    if (observed.replicaFailure)
      this.events.push({
        type: 'Warning',
        reason: observed.replicaFailure.reason,
        message: observed.replicaFailure.message,
      });
  }

  get jobManager() {
    return this.input.observation.jobManager;
  }

  get now(): number {
    return this.input.observation.now;
  }

  /** The plan, its status with the lifecycle derived, and when to look again (derived from the status unless given). */
  plan(p: PlanParts = {}): Plan {
    const final = withLifecycle(p.status ?? this.status);
    return {
      status: final,
      events: [...this.events, ...(p.events ?? [])],
      actions: [...this.actions, ...(p.actions ?? [])],
      requeueAfterMs: 'requeueAfterMs' in p ? p.requeueAfterMs : this.settledRequeue(final),
    };
  }

  /**
   * Waiting on Kubernetes (a JobManager Deployment becoming available) needs no polling: its watch wakes us. Only
   * Flink has to be asked again and again while a cluster comes up.
   */
  private settledRequeue(s: FlinkDeploymentStatus): number {
    const rs = s.reconciliationStatus;
    // Coming up and not yet stable; a terminal job or a finished rollback waits for the user, not for Flink.
    const becomingStable =
      rs?.state === 'DEPLOYED' &&
      rs.lastReconciledSpec !== undefined &&
      rs.lastStableSpec !== rs.lastReconciledSpec &&
      !isTerminal(s.jobStatus?.state);
    const busy =
      s.jobManagerDeploymentStatus === 'DEPLOYING' ||
      rs?.state === 'UPGRADING' ||
      rs?.state === 'ROLLING_BACK' ||
      becomingStable;
    const jm = this.jobManager;
    const waitingOnKubernetes = jm.phase === 'present' && !jm.available;
    return busy && !waitingOnKubernetes
      ? settlingCheckMs(this.timing, rs?.reconciliationTimestamp, this.now)
      : this.timing.reconcileMs;
  }

  /** `recordSpec` with this pass's generation and clock, keeping a validation error. */
  record(
    s: FlinkDeploymentStatus,
    recorded: Json,
    upgrading: boolean,
    jobState: 'running' | 'suspended',
    firstDeployment = false,
  ): FlinkDeploymentStatus {
    const next = recordSpec(s, recorded, {
      upgrading,
      jobState,
      firstDeployment,
      generation: this.deployGeneration,
      now: this.now,
    });
    // The scale subresource's view of an application cluster: what runs after this step.
    if (
      asObject(recorded.job) &&
      next.reconciliationStatus?.state !== 'ROLLING_BACK' &&
      next.reconciliationStatus?.state !== 'ROLLED_BACK'
    ) {
      next.taskManager =
        jobState === 'running'
          ? {
              labelSelector: `component=taskmanager,app=${this.name}`,
              replicas: taskManagerReplicas(withJob(recorded, { state: jobState }) as FlinkDeploymentSpec, this.conf),
            }
          : { labelSelector: '', replicas: 0 };
    }
    return this.keepError ? { ...next, error: this.keepError } : next;
  }

  /**
   * Deletes the cluster: the JobManager Deployment, with HA metadata unless it must survive; looks again in a second.
   * Its job ends with it, and the status written with the deletion says so.
   */
  deleteCluster(deleteHaMetadata: boolean, events: ReconcileEvent[] = []): Plan {
    const job = this.status.jobStatus;
    if (job) this.status = { ...this.status, jobStatus: jobEnded(job, this.now) };
    return this.plan({ events, actions: [{ kind: 'delete-cluster', deleteHaMetadata }], requeueAfterMs: 1000 });
  }

  /**
   * Deploys `recorded` once the previous cluster is gone, restoring from `restorePath` — or, with `fromHa`, as the
   * same job (same id) from the checkpoints its Kubernetes HA metadata points to (`restorePath` only if it has none).
   */
  deploy(
    recorded: Json,
    restorePath: string | undefined,
    firstDeployment: boolean,
    extraEvents: ReconcileEvent[] = [],
    fromHa = false,
  ): Plan {
    const jm = this.jobManager;
    // HA metadata goes unless the new cluster recovers from it (upstream: deleteHaData = !requireHaMetadata): a job
    // left in it is a job the next cluster recovers — Flink 2.3 refuses to start an application whose job id is not it.
    if (jm.phase === 'present') return this.deleteCluster(!fromHa, extraEvents);
    if (jm.phase === 'deleting') return this.plan({ events: extraEvents, requeueAfterMs: 1000 });
    const hasJob = asObject(recorded.job) !== undefined;
    const jobId = hasJob ? ((fromHa ? this.status.jobStatus?.jobId : undefined) ?? this.input.newJobId) : undefined;
    let before = this.record(this.status, recorded, true, 'suspended', firstDeployment);
    before = {
      ...before,
      jobManagerDeploymentStatus: 'DEPLOYING',
      jobStatus: hasJob
        ? {
            ...before.jobStatus,
            jobId,
            state: 'RECONCILING',
            updateTime: String(this.now),
            ...(restorePath ? { upgradeSavepointPath: restorePath } : {}),
          }
        : before.jobStatus,
    };
    const after = this.record(before, recorded, false, 'running', firstDeployment);
    const deploySpec = recorded as FlinkDeploymentSpec;
    const { name, namespace, uid } = this.input.resource.metadata;
    const flinkConf = buildFlinkConfiguration({ name, namespace }, deploySpec, this.input.operatorConfig, {
      jobId,
      restorePath,
      deploymentId: this.input.newJobId,
    });
    const objects = clusterObjects({
      name,
      namespace,
      uid,
      generation: this.deployGeneration,
      spec: deploySpec,
      conf: flinkConf,
    });
    return this.plan({
      status: before,
      events: [...extraEvents, { type: 'Normal', reason: 'Submit', message: 'Starting deployment' }],
      actions: [
        {
          kind: 'deploy',
          objects,
          deleteJobGraphs: isHighAvailabilityEnabled(flinkConf),
          statusAfter: withLifecycle(after),
        },
      ],
      requeueAfterMs: this.timing.progressCheckMs,
    });
  }

  lastReconciled(): SpecEnvelope | undefined {
    return lastReconciledSpec(this.status);
  }
}

export function withLifecycle(status: FlinkDeploymentStatus): FlinkDeploymentStatus {
  return { ...status, lifecycleState: deriveLifecycleState(status, 'FlinkDeployment') };
}

/** Last-state from Flink's own Kubernetes HA metadata: the job is never cancelled, the new cluster recovers it. */
export function restoresFromHa(spec: Json, conf: FlatConfig): boolean {
  return specUpgradeMode(spec) === 'last-state' && isHighAvailabilityEnabled(conf);
}

export function specUpgradeMode(spec: Json): 'stateless' | 'savepoint' | 'last-state' {
  const mode = asObject(spec.job)?.upgradeMode;
  return mode === 'savepoint' || mode === 'last-state' ? mode : 'stateless';
}

/**
 * The new spec as it is deployed after the old job stopped, and the snapshot it starts from: nothing for a stateless
 * spec, else the state the old spec's mode left (`upgradeSavepointPath`), recorded with that mode.
 */
export function restoreFrom(
  spec: Json,
  last: Json,
  upgradeSavepointPath: string | undefined,
): { recorded: Json; path: string | undefined } {
  const mode = specUpgradeMode(spec) === 'stateless' ? 'stateless' : specUpgradeMode(last);
  return {
    recorded: withJob(spec, { upgradeMode: mode }),
    path: mode === 'stateless' ? undefined : upgradeSavepointPath,
  };
}

interface RecordOptions {
  upgrading: boolean;
  jobState: 'running' | 'suspended';
  firstDeployment: boolean;
  generation: number;
  now: number;
}

/** The status fields every Flink resource records a spec in: a FlinkDeployment's and a FlinkSessionJob's. */
export type RecordedStatus = Pick<FlinkDeploymentStatus, 'reconciliationStatus' | 'error' | 'observedGeneration'>;

/**
 * Upstream's ReconciliationUtils#updateStatusForSpecReconciliation (notes §2.3): the spec recorded as reconciled
 * (with the job state it is in after this step), UPGRADING or DEPLOYED, and stable at once when the user suspended.
 */
export function recordSpec<S extends RecordedStatus>(current: S, spec: Json, options: RecordOptions): S {
  const status = structuredClone(current);
  delete status.error;
  const rs = (status.reconciliationStatus ??= {});
  rs.reconciliationTimestamp = options.now;
  const rollingBack = rs.state === 'ROLLING_BACK';
  rs.state = rollingBack
    ? options.upgrading
      ? 'ROLLING_BACK'
      : 'ROLLED_BACK'
    : options.upgrading
      ? 'UPGRADING'
      : 'DEPLOYED';
  if (rollingBack) return status;
  const recorded = withJob(spec, { state: options.jobState });
  rs.lastReconciledSpec = writeSpecEnvelope({
    spec: recorded,
    apiVersion: 'flink.apache.org/v1beta1',
    firstDeployment: options.firstDeployment,
  });
  status.observedGeneration = options.generation;
  if (asObject(spec.job)?.state === 'suspended') rs.lastStableSpec = rs.lastReconciledSpec;
  return status;
}
