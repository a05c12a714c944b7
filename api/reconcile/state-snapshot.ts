// One FlinkStateSnapshot through its life (upstream FlinkStateSnapshotController, StateSnapshotObserver and
// StateSnapshotReconciler): TRIGGER_PENDING → IN_PROGRESS → COMPLETED, or FAILED once `backoffLimit` retries are
// spent, or ABANDONED when its job stops running underneath it. A savepoint that already exists is recorded as
// COMPLETED at once. The trigger id is chosen here and written with IN_PROGRESS before Flink is asked, so an operator
// restarted in between asks again under the same id instead of taking a second snapshot. On deletion a completed
// savepoint with `disposeOnDelete` is disposed of through Flink before the finalizer goes.
import { directoryOption, SAVEPOINT_DIR_KEYS, type FlatConfig } from '../flink-config.js';
import type { FlinkStateSnapshotSpec, FlinkStateSnapshotStatus } from '../types.generated.js';
import { asObject, asString, type Json } from '../validation/access.js';
import { deploymentConfig } from '../validation/index.js';
import { sessionJobConfig } from '../validation/session-job.js';
import {
  jobReferenceOf,
  recordsExistingSavepoint,
  targetProblem,
  validateFlinkStateSnapshot,
  type JobReference,
  type JobTarget,
} from '../validation/state-snapshot.js';
import { formatFieldError } from '../validation/field-error.js';
import { API_VERSION } from '../schema/crd.js';
import type { ReconcileEvent } from './context.js';
import type { OwnedSnapshot, SnapshotKind, SnapshotProgress, SnapshotRequest } from './snapshots.js';

export const STATE_SNAPSHOT_FINALIZER = 'flinkstatesnapshots.flink.apache.org/finalizer';

/** Upstream's labels (CrdConstants): what a snapshot is, who asked for it, where it is, whose it is. */
export const SNAPSHOT_LABELS = {
  type: 'snapshot.type',
  triggerType: 'snapshot.trigger-type',
  state: 'snapshot.state',
  referenceKind: 'job-reference.kind',
  referenceName: 'job-reference.name',
} as const;

export type SnapshotTriggerType = 'MANUAL' | 'PERIODIC' | 'UPGRADE';

/** Between two looks at a snapshot in flight, or at a job that is not running yet. */
export const SNAPSHOT_POLL_MS = 2000;
const WAIT_FOR_JOB_MS = 5000;

export interface StateSnapshotResource {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec: FlinkStateSnapshotSpec;
  status?: FlinkStateSnapshotStatus;
}

/** The job a snapshot names, as the operator sees it. */
export interface SnapshotJob {
  target: JobTarget;
  /** The job's effective Flink configuration (its savepoint directory); absent when the job is not found. */
  config?: FlatConfig;
  /** The FlinkDeployment whose Flink runs the job: its own, or a session job's session; absent when not found. */
  cluster?: string;
}

/** The job resources the operator knows of (its caches), by kind and name in the snapshot's namespace. */
export type JobLookup = (kind: JobReference['kind'], name: string) => Json | undefined;

/** The job a snapshot names: the resource, its effective configuration and the cluster whose Flink runs it. */
export function locateSnapshotJob(reference: JobReference, lookup: JobLookup, operatorConfig: FlatConfig): SnapshotJob {
  const found = lookup(reference.kind, reference.name);
  if (!found) return { target: { state: 'missing' } };
  const target = { state: 'found' as const, resource: found };
  if (reference.kind === 'FlinkDeployment')
    return { target, config: deploymentConfig(operatorConfig, found), cluster: reference.name };
  const cluster = asString(asObject(found.spec)?.deploymentName) ?? '';
  const session = lookup('FlinkDeployment', cluster);
  return {
    target,
    config: sessionJobConfig(
      operatorConfig,
      found,
      session ? { state: 'found', deployment: session } : { state: 'missing' },
    ),
    cluster,
  };
}

export interface StateSnapshotInput {
  snapshot: StateSnapshotResource;
  job: SnapshotJob;
  /** What Flink says of the trigger in flight (asked only while IN_PROGRESS and the job runs). */
  progress?: SnapshotProgress;
  /** Flink runs every task of the job (asked only before a trigger): before that a snapshot would only fail. */
  tasksRunning?: boolean;
  now: number;
  newTriggerId: string;
}

export type StateSnapshotAction =
  | { kind: 'add-finalizer' }
  | { kind: 'remove-finalizer' }
  | { kind: 'label'; labels: Record<string, string> }
  | {
      kind: 'trigger';
      reference: JobReference;
      snapshot: SnapshotKind;
      jobId: string;
      triggerId: string;
      path?: string;
      formatType?: string;
    }
  | { kind: 'dispose'; reference: JobReference; path: string };

export interface StateSnapshotPlan {
  status: FlinkStateSnapshotStatus;
  events: ReconcileEvent[];
  actions: StateSnapshotAction[];
  requeueAfterMs: number | undefined;
}

/** Kubernetes' time format, as upstream writes it. */
export const kubernetesTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const snapshotKindOf = (spec: FlinkStateSnapshotSpec): SnapshotKind =>
  spec.savepoint ? 'savepoint' : 'checkpoint';

export function planStateSnapshot(input: StateSnapshotInput): StateSnapshotPlan {
  const { snapshot } = input;
  const hasFinalizer = snapshot.metadata.finalizers?.includes(STATE_SNAPSHOT_FINALIZER) ?? false;
  const status: FlinkStateSnapshotStatus = { ...(snapshot.status ?? {}) };
  const plan: StateSnapshotPlan = { status, events: [], actions: [], requeueAfterMs: undefined };
  if (snapshot.metadata.deletionTimestamp) return hasFinalizer ? cleanup(input, plan) : plan;
  if (!hasFinalizer) return { ...plan, actions: [{ kind: 'add-finalizer' }] };
  status.state ??= 'TRIGGER_PENDING';
  status.failures ??= 0;
  if (status.state === 'TRIGGER_PENDING') triggerPending(input, plan);
  else if (status.state === 'IN_PROGRESS') inProgress(input, plan);
  const labels = snapshotLabels(snapshot, status);
  if (Object.entries(labels).some(([k, v]) => snapshot.metadata.labels?.[k] !== v))
    plan.actions.unshift({ kind: 'label', labels });
  return plan;
}

/** Upstream's labels for a snapshot in this state. */
export function snapshotLabels(
  snapshot: StateSnapshotResource,
  status: FlinkStateSnapshotStatus,
): Record<string, string> {
  const reference = jobReferenceOf(snapshot as unknown as Json);
  return {
    [SNAPSHOT_LABELS.type]: snapshot.spec.savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
    [SNAPSHOT_LABELS.triggerType]: snapshot.metadata.labels?.[SNAPSHOT_LABELS.triggerType] ?? 'MANUAL',
    ...(status.state ? { [SNAPSHOT_LABELS.state]: status.state } : {}),
    ...(reference
      ? { [SNAPSHOT_LABELS.referenceKind]: reference.kind, [SNAPSHOT_LABELS.referenceName]: reference.name }
      : {}),
  };
}

function triggerPending(input: StateSnapshotInput, plan: StateSnapshotPlan): void {
  const { snapshot, job, now } = input;
  const { status } = plan;
  // The webhook's rules, for a snapshot that did not pass through it: what they refuse cannot succeed later.
  const invalid = validateFlinkStateSnapshot(snapshot as unknown as Json, job.target).errors;
  if (invalid.length > 0)
    return finish(plan, 'FAILED', now, { error: invalid.map(formatFieldError).join('; ') }, 'ValidationError');
  if (recordsExistingSavepoint(snapshot as unknown as Json)) {
    finish(plan, 'COMPLETED', now, { path: snapshot.spec.savepoint!.path! });
    status.triggerTimestamp = status.resultTimestamp;
    return;
  }
  const reference = jobReferenceOf(snapshot as unknown as Json)!;
  const running = runningJob(job);
  if (!running || !input.tasksRunning) {
    plan.requeueAfterMs = WAIT_FOR_JOB_MS; // a job still starting: its snapshot waits, as a user would expect
    return;
  }
  const retryAt =
    status.failures! > 0 && status.triggerTimestamp
      ? Date.parse(status.triggerTimestamp) + backoffMs(status.failures!)
      : 0;
  if (now < retryAt) {
    plan.requeueAfterMs = retryAt - now;
    return;
  }
  const trigger = triggerAction(input, reference, running, input.newTriggerId);
  if (!trigger) {
    return failed(
      input,
      plan,
      `Either spec.savepoint.path or ${SAVEPOINT_DIR_KEYS[0]} in the configuration of ${reference.kind} ${JSON.stringify(reference.name)} has to be set`,
    );
  }
  Object.assign(status, { state: 'IN_PROGRESS', triggerId: input.newTriggerId, triggerTimestamp: kubernetesTime(now) });
  delete status.error;
  plan.actions.push(trigger);
  plan.requeueAfterMs = SNAPSHOT_POLL_MS;
}

function inProgress(input: StateSnapshotInput, plan: StateSnapshotPlan): void {
  const { snapshot, job, progress, now } = input;
  const reference = jobReferenceOf(snapshot as unknown as Json);
  const running = runningJob(job);
  if (!reference || !running) {
    const why = reference
      ? `${reference.kind} ${JSON.stringify(reference.name)} ${job.target.state === 'missing' ? 'no longer exists' : 'is not running'}`
      : 'it names no job';
    return finish(
      plan,
      'ABANDONED',
      now,
      { error: `Snapshot ${snapshot.metadata.name} was abandoned: ${why}` },
      'SnapshotAbandoned',
    );
  }
  plan.requeueAfterMs = SNAPSHOT_POLL_MS;
  if (!progress || progress.state === 'pending') return;
  if (progress.state === 'unknown') {
    // The trigger never reached Flink (the operator stopped in between): ask again under the same id.
    const trigger = triggerAction(input, reference, running, plan.status.triggerId!);
    if (trigger) plan.actions.push(trigger);
    return;
  }
  if (progress.state === 'failed') return failed(input, plan, progress.reason);
  plan.requeueAfterMs = undefined;
  finish(plan, 'COMPLETED', now, { path: progress.location ?? '' });
  const label = progress.kind === 'savepoint' ? 'Savepoint' : 'Checkpoint';
  plan.events.push({
    type: 'Normal',
    reason: `${label}Completed`,
    message: `${label} completed${progress.location ? `: ${progress.location}` : ''}`,
  });
}

/** The trigger of this snapshot: a savepoint into its own path or the job's savepoint directory (none: no trigger). */
function triggerAction(
  input: StateSnapshotInput,
  reference: JobReference,
  jobId: string,
  triggerId: string,
): StateSnapshotAction | undefined {
  const { spec } = input.snapshot;
  const snapshot = snapshotKindOf(spec);
  if (snapshot === 'checkpoint') return { kind: 'trigger', reference, snapshot, jobId, triggerId };
  const path = spec.savepoint?.path ?? directoryOption(input.job.config ?? {}, SAVEPOINT_DIR_KEYS);
  return path
    ? {
        kind: 'trigger',
        reference,
        snapshot,
        jobId,
        triggerId,
        path,
        formatType: spec.savepoint?.formatType ?? 'CANONICAL',
      }
    : undefined;
}

/**
 * A failed attempt (Flink refused or failed the snapshot): counted; retried after 10 s, 20 s, 40 s … while
 * `backoffLimit` allows (-1: forever), else FAILED for good. Exported for the shell, which reports a refused trigger.
 */
export function failed(
  input: Pick<StateSnapshotInput, 'snapshot' | 'now'>,
  plan: StateSnapshotPlan,
  reason: string,
): void {
  const { status } = plan;
  const failures = (status.failures ?? 0) + 1;
  const limit = input.snapshot.spec.backoffLimit ?? -1;
  const reasonName = input.snapshot.spec.savepoint ? 'SavepointError' : 'CheckpointError';
  status.failures = failures;
  if (limit >= 0 && failures > limit) {
    finish(plan, 'FAILED', input.now, { error: reason }, reasonName);
    return;
  }
  Object.assign(status, { state: 'TRIGGER_PENDING', error: reason, triggerTimestamp: kubernetesTime(input.now) });
  delete status.triggerId;
  plan.requeueAfterMs = backoffMs(failures);
  plan.events.push({
    type: 'Warning',
    reason: reasonName,
    message: `${reason} (attempt ${failures}; retrying in ${plan.requeueAfterMs / 1000} s)`,
  });
}

const backoffMs = (failures: number): number => 10_000 * 2 ** Math.min(failures - 1, 10);

function finish(
  plan: StateSnapshotPlan,
  state: 'COMPLETED' | 'FAILED' | 'ABANDONED',
  now: number,
  result: { path?: string; error?: string },
  warning?: string,
): void {
  const { status } = plan;
  status.state = state;
  status.resultTimestamp = kubernetesTime(now);
  delete status.path;
  delete status.error;
  Object.assign(status, result);
  plan.requeueAfterMs = undefined;
  if (warning && result.error) plan.events.push({ type: 'Warning', reason: warning, message: result.error });
}

/** The id of the job's Flink job when it runs; undefined otherwise. */
export function runningJob(job: SnapshotJob): string | undefined {
  if (job.target.state !== 'found') return undefined;
  const jobStatus = asObject(asObject(job.target.resource.status)?.jobStatus);
  return jobStatus?.state === 'RUNNING' && typeof jobStatus.jobId === 'string' ? jobStatus.jobId : undefined;
}

/**
 * Deletion: a completed savepoint with `disposeOnDelete` is disposed of through its job's Flink first. A snapshot in
 * flight waits for its result. With its job gone there is no Flink to ask: the resource goes, the files stay (said
 * in a Warning event with the path), rather than a resource that can never be deleted.
 */
function cleanup(input: StateSnapshotInput, plan: StateSnapshotPlan): StateSnapshotPlan {
  const { snapshot, job } = input;
  const done = (): StateSnapshotPlan => ({ ...plan, actions: [...plan.actions, { kind: 'remove-finalizer' }] });
  const reference = jobReferenceOf(snapshot as unknown as Json);
  const path = plan.status.path;
  if (!snapshot.spec.savepoint || snapshot.spec.savepoint.disposeOnDelete === false || !reference) return done();
  if (plan.status.state === 'IN_PROGRESS' && runningJob(job)) return { ...plan, requeueAfterMs: SNAPSHOT_POLL_MS };
  if (plan.status.state !== 'COMPLETED' || !path) return done();
  if (job.target.state === 'missing') {
    plan.events.push({
      type: 'Warning',
      reason: 'CleanupFailed',
      message: `Savepoint ${path} was not disposed of: ${reference.kind} ${JSON.stringify(reference.name)} no longer exists to dispose of it through Flink`,
    });
    return done();
  }
  if (!runningJob(job)) {
    const why =
      job.target.state === 'unknown'
        ? job.target.reason
        : (targetProblem(reference, job.target) ?? 'its job is not running');
    plan.events.push({
      type: 'Warning',
      reason: 'CleanupFailed',
      message: `Savepoint ${path} is disposed of once ${reference.kind} ${JSON.stringify(reference.name)} runs again: ${why}`,
    });
    return { ...plan, requeueAfterMs: WAIT_FOR_JOB_MS * 6 };
  }
  return { ...plan, actions: [{ kind: 'dispose', reference, path }, { kind: 'remove-finalizer' }] };
}

/** The job resource that asks for a snapshot (and owns the FlinkStateSnapshot made for it). */
export interface SnapshotOwner {
  kind: JobReference['kind'];
  name: string;
  namespace: string;
  uid: string;
}

/**
 * The FlinkStateSnapshot for a snapshot a job asks for, named as upstream names it (`<job>-<kind>-<trigger>-<ms>`)
 * and owned by the job resource, so it goes when the job does. A periodic one is not retried (the next period
 * asks again, and a retrying one would hold the next back); an upgrade savepoint is already taken and only recorded.
 */
export function newSnapshotResource(owner: SnapshotOwner, request: SnapshotRequest, now: number): Json {
  const triggerType = request.triggerType;
  const savepoint = {
    ...(request.path ? { path: request.path } : {}),
    formatType: 'CANONICAL',
    disposeOnDelete: request.disposeOnDelete,
    alreadyExists: triggerType === 'UPGRADE',
  };
  return {
    apiVersion: API_VERSION,
    kind: 'FlinkStateSnapshot',
    metadata: {
      name: `${owner.name}-${request.snapshot}-${triggerType.toLowerCase()}-${now}`,
      namespace: owner.namespace,
      labels: { [SNAPSHOT_LABELS.triggerType]: triggerType },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: owner.kind,
          name: owner.name,
          uid: owner.uid,
          controller: false,
          blockOwnerDeletion: false,
        },
      ],
    },
    spec: {
      jobReference: { kind: owner.kind, name: owner.name },
      backoffLimit: triggerType === 'PERIODIC' ? 0 : -1,
      ...(request.snapshot === 'savepoint' ? { savepoint } : { checkpoint: {} }),
    },
  };
}

/** The FlinkStateSnapshots among `snapshots` that name this job, as the job's planner reads them. */
export function ownedSnapshots(snapshots: readonly Json[], reference: JobReference): OwnedSnapshot[] {
  return snapshots.flatMap((raw) => {
    const snapshot = raw as unknown as StateSnapshotResource & { metadata: { creationTimestamp?: string | Date } };
    const named = jobReferenceOf(raw);
    if (named?.kind !== reference.kind || named.name !== reference.name) return [];
    return [
      {
        name: snapshot.metadata.name,
        kind: snapshotKindOf(snapshot.spec),
        triggerType: snapshot.metadata.labels?.[SNAPSHOT_LABELS.triggerType] ?? 'MANUAL',
        ...(snapshot.status?.state ? { state: snapshot.status.state } : {}),
        ...(snapshot.status?.path ? { path: snapshot.status.path } : {}),
        createdMs: new Date(snapshot.metadata.creationTimestamp ?? 0).getTime(),
        deleting: Boolean(snapshot.metadata.deletionTimestamp),
      },
    ];
  });
}
