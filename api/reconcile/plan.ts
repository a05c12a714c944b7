// The next step for one FlinkDeployment, decided from its stored state and what was just observed — upstream's
// reconcile loop (notes §6) as one pure function. The operator writes the returned status (when it changed),
// emits the events, performs the actions in order and looks again after `requeueAfterMs`.
//
// Every step is safe to repeat and to interrupt: what a later step needs (the new job id, the snapshot to restore
// from, the generation being deployed) is in the status before the step that depends on it runs, so an operator
// killed anywhere picks up where it stopped.
import { clusterObjects, type ClusterObjects } from '../cluster/objects.js';
import { buildFlinkConfiguration, taskManagerReplicas } from '../cluster/flink-configuration.js';
import { isTrue, parseDurationMs, type FlatConfig } from '../flink-config.js';
import { deriveLifecycleState } from '../lifecycle.js';
import { FLINK_DEPLOYMENT } from '../schema/crd.js';
import { lastReconciledSpec, readSpecEnvelope, writeSpecEnvelope, type SpecEnvelope } from '../spec-envelope.js';
import type { FlinkDeploymentSpec, FlinkDeploymentStatus } from '../types.generated.js';
import { asObject, type Json } from '../validation/access.js';
import { deploymentConfig, formatFieldError, validateResource } from '../validation/index.js';
import { errorDocument, isTerminal, observeStatus, reconciledJobState, recordedSpec, withJob, type Observation } from './observe.js';
import { diffSpecs } from './spec-diff.js';

export const FINALIZER = 'flinkdeployments.flink.apache.org/finalizer';

/**
 * What of a FlinkDeployment calls for a reconcile when it changes — generation-aware, as controller-runtime's
 * GenerationChangedPredicate and JOSDK are: the spec (its generation), deletion, finalizers and labels, never the
 * status alone (most status changes are the operator's own writes; reacting to them would skip its backoff).
 */
export function reconcileTrigger(metadata: { generation?: number; deletionTimestamp?: string; finalizers?: string[]; labels?: Record<string, string> } | undefined): string {
  const m = metadata ?? {};
  return JSON.stringify([m.generation, m.deletionTimestamp ?? null, m.finalizers ?? [], m.labels ?? {}]);
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

export type Action =
  | { kind: 'add-finalizer' }
  | { kind: 'remove-finalizer' }
  | { kind: 'deploy'; objects: ClusterObjects; statusAfter: FlinkDeploymentStatus }
  /** Deletes the JobManager Deployment (and so the whole cluster); HA metadata too unless it must survive. */
  | { kind: 'delete-cluster'; deleteHaMetadata: boolean }
  | { kind: 'stop-job'; jobId: string; mechanism: StopMechanism; drain: boolean; statusAfter: (snapshotPath: string | undefined) => FlinkDeploymentStatus };

export interface Plan {
  /** Written before the actions run, when it differs from the stored status. */
  status: FlinkDeploymentStatus;
  events: ReconcileEvent[];
  actions: Action[];
  /** Look again after this long; undefined waits for the next change to the resource. */
  requeueAfterMs: number | undefined;
}

export interface DeploymentResource {
  metadata: { name: string; namespace: string; uid: string; generation: number; deletionTimestamp?: string; finalizers?: string[] };
  spec: FlinkDeploymentSpec;
  status?: FlinkDeploymentStatus;
}

export interface PlanInput {
  resource: DeploymentResource;
  observation: Observation;
  /** The operator's own configuration (`--config`). */
  operatorConfig: FlatConfig;
  /** A fresh 32-hex Flink job id, used if this step deploys a job. */
  newJobId: string;
}

export const VALIDATION_ERROR_TYPE = 'org.apache.flink.kubernetes.operator.exception.ValidationException';
export const RECONCILIATION_ERROR_TYPE = 'org.apache.flink.kubernetes.operator.exception.ReconciliationException';
export const UPGRADE_FAILURE_TYPE = 'org.apache.flink.kubernetes.operator.exception.UpgradeFailureException';
export const MANUAL_RESTORE_MESSAGE =
  'JobManager deployment is missing and HA metadata is not available to make stateful upgrades. It is possible that the job has finished or terminally failed, or the configmaps have been deleted. Manual restore required.';

export interface Timing {
  reconcileMs: number;
  progressCheckMs: number;
}

/** Upstream's reconcile and progress-check intervals, overridable per resource in `spec.flinkConfiguration`. */
export function timing(conf: FlatConfig): Timing {
  const ms = (key: string, fallback: number) => parseDurationMs(conf[key] ?? '') ?? fallback;
  return {
    reconcileMs: ms('kubernetes.operator.reconcile.interval', 60_000),
    progressCheckMs: ms('kubernetes.operator.observer.progress-check.interval', 10_000),
  };
}

export function planDeployment(input: PlanInput): Plan {
  const { resource, observation: seen, operatorConfig } = input;
  const { name, namespace, uid, generation } = resource.metadata;
  const conf = deploymentConfig(operatorConfig, resource as unknown as Json);
  const { reconcileMs, progressCheckMs } = timing(conf);
  const jm = seen.jobManager;

  if (!resource.metadata.deletionTimestamp && !(resource.metadata.finalizers ?? []).includes(FINALIZER)) {
    return { status: resource.status ?? {}, events: [], actions: [{ kind: 'add-finalizer' }], requeueAfterMs: 0 };
  }

  const observed = observeStatus(name, generation, resource.status, seen);
  let status = observed.status;
  const events: ReconcileEvent[] = [];
  if (observed.jobTransition?.from) {
    events.push({ type: 'Normal', reason: 'JobStatusChanged', message: `Job status changed from ${observed.jobTransition.from} to ${observed.jobTransition.to}` });
  }
  if (observed.jobManagerLost) events.push({ type: 'Warning', reason: 'Missing', message: 'Missing JobManager deployment' });

  const plan = (p: { status?: FlinkDeploymentStatus; events?: ReconcileEvent[]; actions?: Action[]; requeueAfterMs?: number | undefined }): Plan => {
    const final = withLifecycle(p.status ?? status);
    return {
      status: final,
      events: [...events, ...(p.events ?? [])],
      actions: p.actions ?? [],
      requeueAfterMs: 'requeueAfterMs' in p ? p.requeueAfterMs : settledRequeue(final),
    };
  };
  // Waiting on Kubernetes (a JobManager Deployment becoming available) needs no polling: its watch wakes us. Only
  // Flink has to be asked again and again while a cluster comes up.
  const settledRequeue = (s: FlinkDeploymentStatus) => {
    const rs = s.reconciliationStatus;
    // Coming up and not yet stable; a terminal job or a finished rollback waits for the user, not for Flink.
    const becomingStable = rs?.state === 'DEPLOYED' && rs.lastReconciledSpec !== undefined && rs.lastStableSpec !== rs.lastReconciledSpec && !isTerminal(s.jobStatus?.state);
    const busy = s.jobManagerDeploymentStatus === 'DEPLOYING' || rs?.state === 'UPGRADING' || rs?.state === 'ROLLING_BACK' || becomingStable;
    const waitingOnKubernetes = jm.phase === 'present' && !jm.available;
    return busy && !waitingOnKubernetes ? progressCheckMs : reconcileMs;
  };

  // ---- deletion: stop the job (with a savepoint when asked), delete the cluster and its HA metadata, let go.
  if (resource.metadata.deletionTimestamp) {
    status = { ...status, lifecycleState: 'DELETING' };
    const job = status.jobStatus ?? {};
    const running = reconciledJobState(status) === 'running' && status.jobManagerDeploymentStatus === 'READY' && job.state === 'RUNNING' && job.jobId;
    if (running && isTrue(conf, 'kubernetes.operator.job.savepoint-on-deletion')) {
      const deleting = status;
      return plan({
        events: [{ type: 'Normal', reason: 'Cleanup', message: 'Cleaning up FlinkDeployment: stopping the job with a savepoint' }],
        actions: [{
          kind: 'stop-job', jobId: job.jobId!, mechanism: 'savepoint', drain: isTrue(conf, 'kubernetes.operator.job.drain-on-savepoint-deletion'),
          statusAfter: (path) => withLifecycle({ ...deleting, jobStatus: { ...deleting.jobStatus, state: 'FINISHED', ...(path ? { upgradeSavepointPath: path } : {}) } }),
        }],
        requeueAfterMs: 0,
      });
    }
    if (jm.phase === 'present') return plan({ events: [{ type: 'Normal', reason: 'Cleanup', message: 'Cleaning up FlinkDeployment' }], actions: [{ kind: 'delete-cluster', deleteHaMetadata: true }], requeueAfterMs: 1000 });
    if (jm.phase === 'deleting') return plan({ requeueAfterMs: 1000 });
    return plan({ actions: [{ kind: 'delete-cluster', deleteHaMetadata: true }, { kind: 'remove-finalizer' }], requeueAfterMs: undefined });
  }

  // ---- validation, as at admission: an invalid spec is reported and the last valid one keeps running.
  let spec: Json = resource.spec as Json;
  const verdict = validateResource(FLINK_DEPLOYMENT, resource, { operatorConfig, stored: true });
  let deployGeneration = generation;
  if (verdict.errors.length > 0) {
    const message = verdict.errors.map(formatFieldError).join('; ');
    const document = errorDocument(VALIDATION_ERROR_TYPE, message);
    if (resource.status?.error !== document) events.push({ type: 'Warning', reason: 'ValidationError', message });
    status = { ...status, error: document };
    const last = lastReconciledSpec(status);
    if (!last) return plan({ requeueAfterMs: undefined });
    spec = status.reconciliationStatus?.state === 'UPGRADING' ? withJob(last.spec, { state: 'running' }) : last.spec;
    deployGeneration = status.observedGeneration ?? generation;
  }
  const keepError = verdict.errors.length > 0 ? status.error : undefined;
  const record = (s: FlinkDeploymentStatus, recorded: Json, upgrading: boolean, jobState: 'running' | 'suspended', firstDeployment = false) => {
    const next = recordSpec(s, recorded, { name, upgrading, jobState, firstDeployment, generation: deployGeneration, now: seen.now, conf });
    return keepError ? { ...next, error: keepError } : next;
  };

  // Deploys `recorded` (restoring from `restorePath`) once the previous cluster is gone.
  const deploy = (recorded: Json, restorePath: string | undefined, firstDeployment: boolean, extraEvents: ReconcileEvent[] = []): Plan => {
    if (jm.phase === 'present') return plan({ events: extraEvents, actions: [{ kind: 'delete-cluster', deleteHaMetadata: false }], requeueAfterMs: 1000 });
    if (jm.phase === 'deleting') return plan({ events: extraEvents, requeueAfterMs: 1000 });
    const hasJob = asObject(recorded.job) !== undefined;
    const jobId = hasJob ? input.newJobId : undefined;
    let before = record(status, recorded, true, 'suspended', firstDeployment);
    before = {
      ...before,
      jobManagerDeploymentStatus: 'DEPLOYING',
      jobStatus: hasJob ? { ...before.jobStatus, jobId, state: 'RECONCILING', updateTime: String(seen.now), ...(restorePath ? { upgradeSavepointPath: restorePath } : {}) } : before.jobStatus,
    };
    const after = record(before, recorded, false, 'running', firstDeployment);
    const deploySpec = recorded as FlinkDeploymentSpec;
    const flinkConf = buildFlinkConfiguration({ name, namespace }, deploySpec, operatorConfig, { jobId, restorePath });
    const objects = clusterObjects({ name, namespace, uid, generation: deployGeneration, spec: deploySpec, conf: flinkConf });
    return plan({
      status: before,
      events: [...extraEvents, { type: 'Normal', reason: 'Submit', message: 'Starting deployment' }],
      actions: [{ kind: 'deploy', objects, statusAfter: withLifecycle(after) }],
      requeueAfterMs: progressCheckMs,
    });
  };

  const last = lastReconciledSpec(status);
  const specJob = asObject(spec.job);

  // ---- first deployment (notes §5.4): nothing when created suspended; else recorded as stateless or savepoint.
  if (!last) {
    if (specJob?.state === 'suspended') return plan({ requeueAfterMs: undefined });
    const initial = typeof specJob?.initialSavepointPath === 'string' && specJob.initialSavepointPath !== '' ? specJob.initialSavepointPath : undefined;
    return deploy(withJob(spec, { upgradeMode: initial ? 'savepoint' : 'stateless' }), initial, true);
  }

  let rs = status.reconciliationStatus ?? {};
  const diff = diffSpecs(last.spec, spec);
  // A new spec from the user ends a rollback in progress: it is upgraded to like any other.
  if (rs.state === 'ROLLING_BACK' && diff.type !== 'IGNORE') {
    rs = { ...rs, state: 'UPGRADING' };
    status = { ...status, reconciliationStatus: rs };
  }
  const upgrading = rs.state === 'UPGRADING';
  const current = reconciledJobState(status);

  // ---- rollback (notes §6.5): the spec did not become stable within the readiness timeout.
  if (rs.state === 'ROLLING_BACK' || (diff.type === 'IGNORE' && shouldRollBack(status, spec, conf, seen.now))) {
    const stable = readSpecEnvelope(rs.lastStableSpec)!.spec;
    const rollbackEvents: ReconcileEvent[] = [];
    if (rs.state !== 'ROLLING_BACK') {
      status = { ...status, reconciliationStatus: { ...rs, state: 'ROLLING_BACK' } };
      rollbackEvents.push({ type: 'Normal', reason: 'Rollback', message: 'Rolling back failed deployment.' });
    }
    const recorded = withJob(stable, { state: 'running' });
    const stableMode = specUpgradeMode(stable);
    const restorePath = asObject(recorded.job) && stableMode !== 'stateless' ? status.jobStatus?.upgradeSavepointPath : undefined;
    return deploy(recorded, restorePath, false, rollbackEvents);
  }

  // ---- nothing to change: record ignored fields, clean up a suspended cluster, recover a lost JobManager.
  if (diff.type === 'IGNORE' && !upgrading) {
    if (diff.changes.length > 0) status = recordIgnoredChanges(status, spec, last, deployGeneration);
    if (current === 'suspended') {
      return jm.phase === 'present' ? plan({ actions: [{ kind: 'delete-cluster', deleteHaMetadata: specUpgradeMode(last.spec) === 'stateless' }], requeueAfterMs: 1000 }) : plan({});
    }
    if (jm.phase === 'absent' && rs.state === 'DEPLOYED' && !isTerminal(status.jobStatus?.state)) {
      const stateless = !specJob || specUpgradeMode(last.spec) === 'stateless';
      if (stateless && isTrue(conf, 'kubernetes.operator.jm-deployment-recovery.enabled', true)) {
        return deploy(withJob(last.spec, { state: 'running' }), undefined, false, [{ type: 'Warning', reason: 'RecoverDeployment', message: 'Recovering lost deployment' }]);
      }
      if (!stateless) status = { ...status, error: errorDocument(UPGRADE_FAILURE_TYPE, MANUAL_RESTORE_MESSAGE) };
    }
    return plan({});
  }

  const changeEvents: ReconcileEvent[] = upgrading
    ? []
    : [{ type: 'Normal', reason: 'SpecChanged', message: `${diff.type} change(s) detected (${diff.changes.filter((c) => c.type !== 'IGNORE').map((c) => c.field).join(', ')}), starting reconciliation.` }];

  // ---- session cluster: any change redeploys it (upstream SessionReconciler), keeping HA metadata.
  if (!specJob) {
    if (!upgrading) status = record(status, spec, true, 'suspended');
    return deploy(spec, undefined, false, changeEvents);
  }

  const desired = specJob.state === 'suspended' ? 'suspended' : 'running';

  // ---- the job runs with the old spec: stop it the way the upgrade mode says.
  if (current === 'running' && !upgrading) {
    const mode = specUpgradeMode(spec);
    const job = status.jobStatus ?? {};
    const reachable = status.jobManagerDeploymentStatus === 'READY';
    const neverStable = rs.lastStableSpec !== rs.lastReconciledSpec;
    const stopped = (mechanism: StopMechanism | undefined, restoreMode: string) => (path: string | undefined): FlinkDeploymentStatus => {
      const recorded = withJob(spec, { upgradeMode: restoreMode });
      const jobStatus = { ...status.jobStatus };
      if (mechanism === 'savepoint' || mechanism === 'cancel') {
        jobStatus.state = mechanism === 'cancel' ? 'CANCELED' : 'FINISHED';
        jobStatus.updateTime = String(seen.now);
      }
      if (restoreMode === 'stateless') delete jobStatus.upgradeSavepointPath;
      else if (path) jobStatus.upgradeSavepointPath = path;
      return record({ ...status, jobStatus }, recorded, desired === 'running', 'suspended');
    };
    const suspendEvent: ReconcileEvent = { type: 'Normal', reason: 'Suspended', message: 'Suspending existing deployment.' };
    const stop = (mechanism: StopMechanism, restoreMode: string): Plan =>
      plan({
        events: [...changeEvents, suspendEvent],
        actions: [{ kind: 'stop-job', jobId: job.jobId!, mechanism, drain: false, statusAfter: (path) => withLifecycle(stopped(mechanism, restoreMode)(path)) }],
        requeueAfterMs: 0,
      });

    if (mode === 'stateless') return plan({ status: stopped(undefined, 'stateless')(undefined), events: [...changeEvents, suspendEvent], requeueAfterMs: 0 });
    if (reachable && job.jobId && isTerminal(job.state)) return stop('latest-checkpoint', 'savepoint');
    if (reachable && job.jobId && job.state === 'RUNNING') return stop(mode === 'savepoint' ? 'savepoint' : 'cancel', mode);
    // The job never ran with the spec being replaced: the state it was started from is still the state to keep.
    if (neverStable) return plan({ status: stopped(undefined, mode)(job.upgradeSavepointPath), events: changeEvents, requeueAfterMs: 0 });
    if (reachable && job.jobId && job.state !== undefined && job.state !== 'RECONCILING') return stop('cancel', mode);
    return plan({ events: changeEvents, requeueAfterMs: progressCheckMs });
  }

  // ---- the old job is stopped: deploy the new spec from its state, or stay suspended.
  if (desired === 'running') {
    const recordedMode = specUpgradeMode(last.spec);
    const restoreMode = specUpgradeMode(spec) === 'stateless' ? 'stateless' : recordedMode;
    const recorded = withJob(spec, { upgradeMode: restoreMode });
    const restorePath = restoreMode === 'stateless' ? undefined : status.jobStatus?.upgradeSavepointPath;
    return deploy(recorded, restorePath, false, changeEvents);
  }
  status = record(status, spec, false, 'suspended');
  return jm.phase === 'present'
    ? plan({ events: changeEvents, actions: [{ kind: 'delete-cluster', deleteHaMetadata: specUpgradeMode(spec) === 'stateless' }], requeueAfterMs: 1000 })
    : plan({ events: changeEvents });
}

/**
 * Upstream's shouldRollBack for a spec that is not changing: rollback enabled, the deployed spec never became
 * stable within `kubernetes.operator.deployment.readiness.timeout`, and a stable spec to return to that runs and
 * has the same Flink version. Upstream also needs HA metadata to restore from; here the state to restore is the
 * snapshot the upgrade took (the failed spec never ran), or nothing for a stateless job.
 */
export function shouldRollBack(status: FlinkDeploymentStatus, spec: Json, conf: FlatConfig, now: number): boolean {
  const rs = status.reconciliationStatus ?? {};
  if (!isTrue(conf, 'kubernetes.operator.deployment.rollback.enabled')) return false;
  if (rs.state !== 'DEPLOYED' || rs.lastStableSpec === undefined || rs.lastReconciledSpec === rs.lastStableSpec) return false;
  const stable = readSpecEnvelope(rs.lastStableSpec)?.spec;
  if (!stable || asObject(stable.job)?.state === 'suspended' || stable.flinkVersion !== spec.flinkVersion) return false;
  const timeoutMs = parseDurationMs(conf['kubernetes.operator.deployment.readiness.timeout'] ?? '') ?? 300_000;
  if (now - timeoutMs <= (rs.reconciliationTimestamp ?? now)) return false;
  return !asObject(stable.job) || specUpgradeMode(stable) === 'stateless' || status.jobStatus?.upgradeSavepointPath !== undefined;
}

/** The status after a step that failed (a Kubernetes or Flink call): the reason in `status.error`, retried later. */
export function withFailedStep(status: FlinkDeploymentStatus | undefined, message: string): FlinkDeploymentStatus {
  return withLifecycle({ ...status, error: errorDocument(RECONCILIATION_ERROR_TYPE, message) });
}

export function withLifecycle(status: FlinkDeploymentStatus): FlinkDeploymentStatus {
  return { ...status, lifecycleState: deriveLifecycleState(status, 'FlinkDeployment') };
}

function specUpgradeMode(spec: Json): 'stateless' | 'savepoint' | 'last-state' {
  const mode = asObject(spec.job)?.upgradeMode;
  return mode === 'savepoint' || mode === 'last-state' ? mode : 'stateless';
}


interface RecordOptions {
  name: string;
  upgrading: boolean;
  jobState: 'running' | 'suspended';
  firstDeployment: boolean;
  generation: number;
  now: number;
  conf: FlatConfig;
}

/**
 * Upstream's ReconciliationUtils#updateStatusForSpecReconciliation (notes §2.3): the spec recorded as reconciled
 * (with the job state it is in after this step), UPGRADING or DEPLOYED, and stable at once when the user suspended.
 */
export function recordSpec(current: FlinkDeploymentStatus, spec: Json, options: RecordOptions): FlinkDeploymentStatus {
  const status = structuredClone(current);
  delete status.error;
  const rs = (status.reconciliationStatus ??= {});
  rs.reconciliationTimestamp = options.now;
  const rollingBack = rs.state === 'ROLLING_BACK';
  rs.state = rollingBack ? (options.upgrading ? 'ROLLING_BACK' : 'ROLLED_BACK') : options.upgrading ? 'UPGRADING' : 'DEPLOYED';
  if (rollingBack) return status;
  const recorded = withJob(spec, { state: options.jobState });
  rs.lastReconciledSpec = writeSpecEnvelope({ spec: recorded, apiVersion: 'flink.apache.org/v1beta1', firstDeployment: options.firstDeployment });
  status.observedGeneration = options.generation;
  const job = asObject(spec.job);
  if (job) {
    status.taskManager = options.jobState === 'running'
      ? { labelSelector: `component=taskmanager,app=${options.name}`, replicas: taskManagerReplicas(recorded as FlinkDeploymentSpec, options.conf) }
      : { labelSelector: '', replicas: 0 };
    if (job.state === 'suspended') rs.lastStableSpec = rs.lastReconciledSpec;
  }
  return status;
}

/** IGNORE-only changes (upgrade mode, nonces) are recorded without touching the cluster; stable stays stable. */
function recordIgnoredChanges(current: FlinkDeploymentStatus, spec: Json, last: SpecEnvelope, generation: number): FlinkDeploymentStatus {
  const status = structuredClone(current);
  const rs = (status.reconciliationStatus ??= {});
  const wasStable = rs.lastStableSpec === rs.lastReconciledSpec;
  const state = asObject(last.spec.job)?.state;
  rs.lastReconciledSpec = recordedSpec({ ...last, spec }, state === 'suspended' ? 'suspended' : 'running');
  if (wasStable) rs.lastStableSpec = rs.lastReconciledSpec;
  status.observedGeneration = generation;
  return status;
}
