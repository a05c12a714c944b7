// The next step for one FlinkSessionJob (upstream SessionJobReconciler, notes §8.2): submit its jar to the session
// cluster it names, keep its job in step with its spec (upgrades per upgrade mode, suspend, resume, restart nonce),
// and cancel it before the resource goes. Pure, like the FlinkDeployment planners: the operator fetches and uploads
// the jar, calls Flink and writes the status.
//
// Submission is exactly-once across operator restarts: the job id is chosen and written to the status (job state
// RECONCILING) before the jar is run with that id, so a later pass finds the job on the session by its id or submits
// it again under the same id — never a second job.
import { dialect } from '../flink-versions.js';
import { isTerminal, errorDocument, jobEnded, withJob, type FlinkJob, type JobFailure } from './observe.js';
import { isOperatorKey } from '../cluster/flink-configuration.js';
import {
  recordSpec,
  restoreFrom,
  settlingCheckMs,
  specUpgradeMode,
  timing,
  type ReconcileEvent,
  type StopJob,
  type StopMechanism,
  type Timing,
} from './context.js';
import { invalidity } from './planners/validation.js';
import { diffSpecs } from './spec-diff.js';
import {
  planSnapshots,
  recordNonces,
  upgradeSavepointRecord,
  withReconciledNonces,
  type OwnedSnapshot,
  type SnapshotAction,
  type SnapshotProgress,
  type SnapshotRequest,
} from './snapshots.js';
import { deriveLifecycleState } from '../lifecycle.js';
import { option, OPTIONS } from '../operator-options.js';
import { FLINK_SESSION_JOB } from '../schema/crd.js';
import { lastReconciledSpec, type SpecEnvelope } from '../spec-envelope.js';
import { checkpointStatsTtlMs, flattenConfig, type FlatConfig } from '../flink-config.js';
import type { FlinkSessionJobSpec, FlinkSessionJobStatus, JobStatus } from '../types.generated.js';
import { asObject, asString, type Json } from '../validation/access.js';
import { sessionJobConfig, type SessionTarget } from '../validation/index.js';

export const SESSION_JOB_FINALIZER = 'flinksessionjobs.flink.apache.org/finalizer';

export interface SessionJobResource {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec: FlinkSessionJobSpec;
  status?: FlinkSessionJobStatus;
}

/** The session cluster a job names, as the operator found it. */
export type SessionState =
  | { phase: 'absent' }
  /** There, but its JobManager is not READY or its REST API did not answer. */
  | { phase: 'not-ready'; deployment: Json; reason: string }
  | { phase: 'ready'; deployment: Json; jobs: FlinkJob[] };

export interface SessionJobObservation {
  now: number;
  session: SessionState;
  /** Why the job failed, read once when Flink first says FAILED. */
  failure?: JobFailure;
  /** What Flink says of the savepoint or checkpoint in flight, if one is. */
  snapshots?: SnapshotProgress[];
  /** The FlinkStateSnapshots that name this job. */
  ownedSnapshots?: OwnedSnapshot[];
}

/** What `POST /jars/:id/run` is given, with the jar to fetch and upload first. */
export interface SubmitRequest {
  jobId: string;
  jarURI: string;
  entryClass?: string;
  args: string[];
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  /** The job's own `flinkConfiguration`, flat, sent with the run request (Flink ≥ 1.17 applies it per job). */
  flinkConfiguration: Record<string, string>;
  /** Sent with the jar download (`kubernetes.operator.user.artifacts.http.header`). */
  jarHeaders: Record<string, string>;
}

export type SessionJobAction =
  | { kind: 'add-finalizer' }
  | { kind: 'remove-finalizer' }
  | { kind: 'submit'; request: SubmitRequest; statusAfter: FlinkSessionJobStatus }
  /** `restorePoint`: after a cancel, or of a job that ended, read the newest checkpoint to restore from. */
  | ({
      kind: 'stop-job';
      recordSavepoint?: SnapshotRequest;
      statusAfter: (snapshotPath: string | undefined) => FlinkSessionJobStatus;
    } & StopJob)
  | SnapshotAction;

export interface SessionJobPlan {
  status: FlinkSessionJobStatus;
  events: ReconcileEvent[];
  actions: SessionJobAction[];
  requeueAfterMs: number | undefined;
}

export interface SessionJobPlanInput {
  resource: SessionJobResource;
  observation: SessionJobObservation;
  operatorConfig: FlatConfig;
  /** A fresh 32-hex Flink job id, used if this step submits a job. */
  newJobId: string;
}

/** Whether a session job holds a job on its session cluster (which must stop before the session is redeployed). */
export function occupiesSession(status: FlinkSessionJobStatus | undefined): boolean {
  const job = status?.jobStatus;
  if (job?.jobId === undefined) return false;
  return isSubmitting(status) || (lastJobState(status) === 'running' && !isTerminal(job.state));
}

function isSubmitting(status: FlinkSessionJobStatus | undefined): boolean {
  const job = status?.jobStatus;
  return status?.reconciliationStatus?.state === 'UPGRADING' && job?.state === 'RECONCILING' && job.jobId !== undefined;
}

/** Whether a session cluster's status says it is being redeployed (its jobs must be stopped first). */
function sessionUpgrading(deployment: Json): boolean {
  const rs = asObject(asObject(deployment.status)?.reconciliationStatus);
  return rs?.state === 'UPGRADING';
}

export function planSessionJob(input: SessionJobPlanInput): SessionJobPlan {
  const { resource } = input;
  const { metadata } = resource;
  if (!metadata.deletionTimestamp && !(metadata.finalizers ?? []).includes(SESSION_JOB_FINALIZER)) {
    return { status: resource.status ?? {}, events: [], actions: [{ kind: 'add-finalizer' }], requeueAfterMs: 0 };
  }
  return new SessionJobPlanner(input).plan();
}

class SessionJobPlanner {
  private status: FlinkSessionJobStatus;
  private readonly events: ReconcileEvent[] = [];
  private readonly conf: FlatConfig;
  private readonly timing: Timing;
  private readonly session: SessionState;
  /** The spec to act on: the user's, or the last valid one while the user's is invalid. */
  private spec: Json;
  private keepError: string | undefined;
  /** A submission was started (its job id written) and its outcome not yet recorded — as stored, before observing. */
  private readonly submitting: boolean;

  constructor(private readonly input: SessionJobPlanInput) {
    const { resource, observation } = input;
    this.submitting = isSubmitting(resource.status);
    this.session = observation.session;
    this.conf = sessionJobConfig(input.operatorConfig, resource as unknown as Json, targetOf(this.session));
    this.timing = timing(this.conf);
    this.spec = resource.spec as Json;
    this.status = this.observe(structuredClone(resource.status ?? {}));
  }

  plan(): SessionJobPlan {
    if (this.input.resource.metadata.deletionTimestamp) return this.planDeletion();
    const invalid = this.applyValidation();
    if (invalid) return invalid;
    // Until the session answers there is nothing to submit to; its watch wakes us when it does.
    if (this.session.phase !== 'ready') return this.done({ requeueAfterMs: this.timing.progressCheckMs });
    const ready = this.session;
    const last = lastReconciledSpec(this.status);
    if (!last) return this.planFirst();
    const rs = this.status.reconciliationStatus ?? {};
    if (this.submitting) return this.planInFlight(last, ready);
    if (sessionUpgrading(ready.deployment)) return this.planSessionUpgrade(last);
    const diff = diffSpecs(last.spec, this.spec);
    if (diff.type === 'IGNORE' && rs.state !== 'UPGRADING')
      return this.planSteady(last, diff.changes.length > 0, ready);
    if (rs.state !== 'UPGRADING') {
      const fields = diff.changes
        .filter((c) => c.type !== 'IGNORE')
        .map((c) => c.field)
        .join(', ');
      this.events.push({
        type: 'Normal',
        reason: 'SpecChanged',
        message: `${diff.type} change(s) detected (${fields}), starting reconciliation.`,
      });
    }
    return this.planSpecChange(last);
  }

  /** Flink's view of the job folded into the status: its state, name and start time; stable once it runs. */
  private observe(status: FlinkSessionJobStatus): FlinkSessionJobStatus {
    if (this.session.phase !== 'ready') return status;
    const job: JobStatus = (status.jobStatus ??= {});
    const seen = job.jobId ? this.session.jobs.find((j) => j.id === job.jobId) : undefined;
    if (!seen) return status;
    job.jobName = seen.name;
    if (seen.startTime > 0) job.startTime = String(seen.startTime);
    if (job.state !== seen.state) {
      this.events.push({
        type: 'Normal',
        reason: 'JobStatusChanged',
        message: `Job status changed from ${job.state ?? 'UNKNOWN'} to ${seen.state}`,
      });
      job.state = seen.state;
      job.updateTime = String(this.input.observation.now);
    }
    const failure = this.input.observation.failure;
    if (seen.state === 'FAILED' && failure)
      status.error = errorDocument(failure.type, failure.message, failure.throwableList);
    const rs = status.reconciliationStatus;
    if (
      rs?.state === 'DEPLOYED' &&
      lastJobState(status) === 'running' &&
      (seen.state === 'RUNNING' || seen.state === 'FINISHED')
    ) {
      rs.lastStableSpec = rs.lastReconciledSpec;
      if (seen.state === 'RUNNING') delete status.error;
    }
    return status;
  }

  private done(
    p: { actions?: SessionJobAction[]; requeueAfterMs?: number | undefined; status?: FlinkSessionJobStatus } = {},
  ): SessionJobPlan {
    const status = p.status ?? this.status;
    const final = { ...status, lifecycleState: deriveLifecycleState(status, 'FlinkSessionJob') };
    const busy =
      final.reconciliationStatus?.state === 'UPGRADING' ||
      (final.reconciliationStatus?.lastStableSpec !== final.reconciliationStatus?.lastReconciledSpec &&
        !isTerminal(final.jobStatus?.state));
    return {
      status: final,
      events: this.events,
      actions: p.actions ?? [],
      requeueAfterMs:
        'requeueAfterMs' in p
          ? p.requeueAfterMs
          : busy
            ? settlingCheckMs(
                this.timing,
                final.reconciliationStatus?.reconciliationTimestamp,
                this.input.observation.now,
              )
            : this.timing.reconcileMs,
    };
  }

  private record(
    status: FlinkSessionJobStatus,
    spec: Json,
    upgrading: boolean,
    jobState: 'running' | 'suspended',
    firstDeployment = false,
  ): FlinkSessionJobStatus {
    const next = recordSpec(status, spec, {
      upgrading,
      jobState,
      firstDeployment,
      generation: this.input.resource.metadata.generation,
      now: this.input.observation.now,
    });
    return this.keepError ? { ...next, error: this.keepError } : next;
  }

  private applyValidation(): SessionJobPlan | undefined {
    const { resource, operatorConfig } = this.input;
    const invalid = invalidity(FLINK_SESSION_JOB, resource, { operatorConfig, sessionTarget: targetOf(this.session) });
    if (!invalid) return undefined;
    const { document, event } = invalid;
    if (event) this.events.push(event);
    this.status = { ...this.status, error: document };
    this.keepError = document;
    const last = lastReconciledSpec(this.status);
    if (!last) return this.done({ requeueAfterMs: undefined });
    this.spec = last.spec;
    return undefined;
  }

  private planDeletion(): SessionJobPlan {
    const status = (this.status = { ...this.status, lifecycleState: 'DELETING' });
    const job = status.jobStatus ?? {};
    const onSession =
      this.session.phase === 'ready' &&
      job.jobId !== undefined &&
      this.session.jobs.some((j) => j.id === job.jobId && !isTerminal(j.state));
    // A session that is gone or does not answer took its jobs with it (upstream skips the cancel then).
    if (!onSession)
      return { status, events: this.events, actions: [{ kind: 'remove-finalizer' }], requeueAfterMs: undefined };
    const savepoint = option(this.conf, OPTIONS.savepointOnDeletion);
    this.events.push({
      type: 'Normal',
      reason: 'Cleanup',
      message: `Cleaning up FlinkSessionJob: ${savepoint ? 'stopping the job with a savepoint' : 'cancelling the job'}`,
    });
    return {
      status,
      events: this.events,
      actions: [
        {
          kind: 'stop-job',
          jobId: job.jobId!,
          mechanism: savepoint ? 'savepoint' : 'cancel',
          drain: savepoint && option(this.conf, OPTIONS.drainOnSavepointDeletion),
          restorePoint: false,
          checkpointStatsTtlMs: 0,
          statusAfter: (path) => ({
            ...status,
            jobStatus: {
              ...job,
              state: savepoint ? 'FINISHED' : 'CANCELED',
              ...(path && savepoint ? { upgradeSavepointPath: path } : {}),
            },
          }),
        },
      ],
      requeueAfterMs: 0,
    };
  }

  /** Nothing submitted yet: nothing when created suspended, else a stateless start or one from `initialSavepointPath`. */
  private planFirst(): SessionJobPlan {
    const job = asObject(this.spec.job);
    if (job?.state === 'suspended') return this.done({ requeueAfterMs: undefined });
    const initial =
      typeof job?.initialSavepointPath === 'string' && job.initialSavepointPath !== ''
        ? job.initialSavepointPath
        : undefined;
    return this.submit(
      withJob(this.spec, { upgradeMode: initial ? 'savepoint' : 'stateless' }),
      this.input.newJobId,
      initial,
      true,
    );
  }

  /**
   * A submission was started and not recorded: the job is on the session under its id, or it is submitted again
   * under that id — with the user's newer spec if it changed meanwhile (a jar URI fixed after a failed fetch).
   */
  private planInFlight(last: SpecEnvelope, session: Extract<SessionState, { phase: 'ready' }>): SessionJobPlan {
    const job = this.status.jobStatus!;
    if (session.jobs.some((j) => j.id === job.jobId))
      return this.done({ status: this.record(this.status, last.spec, false, 'running') });
    // Not on the session: while the session is being redeployed it will not be, so the attempt ends here.
    if (sessionUpgrading(session.deployment))
      return this.done({ status: { ...this.status, jobStatus: { ...job, state: 'CANCELED' } }, requeueAfterMs: 1000 });
    if (diffSpecs(last.spec, this.spec).type === 'IGNORE')
      return this.submit(last.spec, job.jobId!, job.upgradeSavepointPath, last.firstDeployment);
    if (asObject(this.spec.job)?.state === 'suspended') return this.suspendIdle();
    const { recorded, path } = restoreFrom(this.spec, last.spec, job.upgradeSavepointPath);
    return this.submit(recorded, job.jobId!, path, last.firstDeployment);
  }

  private listed(jobId: string | undefined): boolean {
    return this.session.phase === 'ready' && jobId !== undefined && this.session.jobs.some((j) => j.id === jobId);
  }

  /**
   * Writes the job id and restore point first (state RECONCILING, the spec UPGRADING), then submits; the status
   * after the submission records the spec as DEPLOYED and running.
   */
  private submit(
    recorded: Json,
    jobId: string,
    restorePath: string | undefined,
    firstDeployment: boolean,
  ): SessionJobPlan {
    let before = this.record(this.status, recorded, true, 'suspended', firstDeployment);
    const jobStatus: JobStatus = {
      ...before.jobStatus,
      jobId,
      state: 'RECONCILING',
      updateTime: String(this.input.observation.now),
    };
    if (restorePath) jobStatus.upgradeSavepointPath = restorePath;
    else delete jobStatus.upgradeSavepointPath;
    before = { ...before, jobStatus };
    const after = this.record(before, recorded, false, 'running', firstDeployment);
    const job = asObject(recorded.job) ?? {};
    const request: SubmitRequest = {
      jobId,
      jarURI: String(job.jarURI ?? ''),
      ...(typeof job.entryClass === 'string' && job.entryClass !== '' ? { entryClass: job.entryClass } : {}),
      args: Array.isArray(job.args) ? job.args.map(String) : [],
      ...(typeof job.parallelism === 'number' && job.parallelism > 0 ? { parallelism: job.parallelism } : {}),
      ...(restorePath ? { savepointPath: restorePath } : {}),
      ...(job.allowNonRestoredState === true ? { allowNonRestoredState: true } : {}),
      // Flink before 1.17 refuses a run request that carries a configuration (upstream sends none then either).
      flinkConfiguration: dialect(this.sessionFlinkVersion()).jarRunTakesConfiguration
        ? this.jobConfiguration(recorded)
        : {},
      jarHeaders: parseArtifactHeaders(option(this.conf, OPTIONS.artifactsHttpHeaders)),
    };
    this.events.push({
      type: 'Normal',
      reason: 'Submit',
      message: `Submitting job ${jobId}${restorePath ? ` from ${restorePath}` : ''}`,
    });
    return this.done({
      status: before,
      actions: [
        {
          kind: 'submit',
          request,
          statusAfter: { ...after, lifecycleState: deriveLifecycleState(after, 'FlinkSessionJob') },
        },
      ],
      requeueAfterMs: this.timing.progressCheckMs,
    });
  }

  /**
   * The job's own configuration for the run request, with what its upgrade mode needs unless the session or the job
   * says otherwise (as the operator sets for application clusters): checkpoints kept when the job is cancelled, and
   * a checkpoint interval for last-state.
   */
  private sessionFlinkVersion(): string | undefined {
    return this.session.phase === 'absent' ? undefined : asString(asObject(this.session.deployment.spec)?.flinkVersion);
  }

  private jobConfiguration(recorded: Json): Record<string, string> {
    // The operator's keys are ours, not Flink's: they stay out of the run request as out of a cluster's configuration.
    const own = Object.fromEntries(
      Object.entries(flattenConfig(asObject(recorded.flinkConfiguration) ?? {})).filter(([key]) => !isOperatorKey(key)),
    );
    const defaults: Record<string, string> = {
      'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION',
    };
    if (specUpgradeMode(this.spec) === 'last-state') defaults['execution.checkpointing.interval'] = '5 min';
    const missing = Object.entries(defaults).filter(([key]) => this.conf[key] === undefined);
    return { ...Object.fromEntries(missing), ...own };
  }

  /** Nothing to change: record ignored fields; a running job that vanished from its session is submitted again. */
  private planSteady(
    last: SpecEnvelope,
    ignoredChanges: boolean,
    session: Extract<SessionState, { phase: 'ready' }>,
  ): SessionJobPlan {
    if (ignoredChanges) this.status = this.recordIgnored(last);
    const job = this.status.jobStatus ?? {};
    const vanished =
      lastJobState(this.status) === 'running' &&
      job.jobId !== undefined &&
      !isTerminal(job.state) &&
      !session.jobs.some((j) => j.id === job.jobId);
    if (!vanished) return this.planSnapshots(last);
    this.events.push({
      type: 'Warning',
      reason: 'Missing',
      message: `Job ${job.jobId} is no longer known to session cluster ${session.deployment.metadata ? String(asObject(session.deployment.metadata)?.name) : ''}`,
    });
    const restoreMode = specUpgradeMode(last.spec);
    if (restoreMode !== 'stateless' && !job.upgradeSavepointPath) {
      this.status = {
        ...this.status,
        error: errorDocument(
          'org.apache.flink.kubernetes.operator.exception.UpgradeFailureException',
          'The job is gone from its session cluster and no snapshot of it is known. Manual restore required.',
        ),
      };
      return this.done();
    }
    return this.submit(
      withJob(last.spec, { state: 'running' }),
      this.input.newJobId,
      restoreMode === 'stateless' ? undefined : job.upgradeSavepointPath,
      false,
    );
  }

  /** Manual and periodic savepoints and checkpoints of the running job, and the disposal of aged savepoints. */
  private planSnapshots(last: SpecEnvelope): SessionJobPlan {
    if (this.status.reconciliationStatus?.state !== 'DEPLOYED' || lastJobState(this.status) !== 'running')
      return this.done();
    const step = planSnapshots({
      job: this.status.jobStatus ?? {},
      spec: this.spec,
      reconciled: last.spec,
      conf: this.conf,
      now: this.input.observation.now,
      progress: this.input.observation.snapshots ?? [],
      tasksRunning:
        this.session.phase === 'ready' &&
        this.session.jobs.some((j) => j.id === this.status.jobStatus?.jobId && j.allTasksRunning),
      newTriggerId: this.input.newJobId,
      ...(this.input.observation.ownedSnapshots ? { owned: this.input.observation.ownedSnapshots } : {}),
    });
    this.status = recordNonces({ ...this.status, jobStatus: step.job }, step.nonces);
    this.events.push(...step.events);
    return this.done({ actions: step.actions });
  }

  /** IGNORE-only changes (upgrade mode, nonces) are recorded without touching the job; stable stays stable. */
  private recordIgnored(last: SpecEnvelope): FlinkSessionJobStatus {
    const status = structuredClone(this.status);
    const rs = (status.reconciliationStatus ??= {});
    const wasStable = rs.lastStableSpec === rs.lastReconciledSpec;
    const state = asObject(last.spec.job)?.state === 'suspended' ? 'suspended' : 'running';
    const next = recordSpec(status, withJob(withReconciledNonces(this.spec, last.spec), { state }), {
      upgrading: false,
      jobState: state,
      firstDeployment: false,
      generation: this.input.resource.metadata.generation,
      now: rs.reconciliationTimestamp ?? this.input.observation.now,
    });
    if (!wasStable && next.reconciliationStatus) next.reconciliationStatus.lastStableSpec = rs.lastStableSpec;
    return { ...next, ...(status.error ? { error: status.error } : {}) };
  }

  /** The session cluster is being redeployed: stop the job the way its upgrade mode says, to be resubmitted after. */
  private planSessionUpgrade(last: SpecEnvelope): SessionJobPlan {
    if (!occupiesSession(this.status)) return this.done({ requeueAfterMs: 1000 });
    return this.stop(last.spec, true, [
      { type: 'Normal', reason: 'Suspended', message: 'Stopping the job while its session cluster is redeployed.' },
    ]);
  }

  private planSpecChange(last: SpecEnvelope): SessionJobPlan {
    const upgrading = this.status.reconciliationStatus?.state === 'UPGRADING';
    const wantRunning = asObject(this.spec.job)?.state !== 'suspended';
    const job = this.status.jobStatus ?? {};
    const endedOnSession =
      isTerminal(job.state) && specUpgradeMode(this.spec) !== 'stateless' && this.listed(job.jobId);
    if (!upgrading && lastJobState(this.status) === 'running' && (occupiesSession(this.status) || endedOnSession)) {
      return this.stop(this.spec, wantRunning, [
        { type: 'Normal', reason: 'Suspended', message: 'Suspending existing job.' },
      ]);
    }
    if (!wantRunning) return this.suspendIdle();
    // Resume or upgrade from the state the old job left (stateless: from nothing).
    const { recorded, path } = restoreFrom(this.spec, last.spec, this.status.jobStatus?.upgradeSavepointPath);
    return this.submit(recorded, this.input.newJobId, path, false);
  }

  /** Suspended while no job of its runs on the session (never submitted, or already over): nothing to stop. */
  private suspendIdle(): SessionJobPlan {
    const job = this.status.jobStatus;
    const status = job ? { ...this.status, jobStatus: jobEnded(job, this.input.observation.now) } : this.status;
    return this.done({ status: this.record(status, this.spec, false, 'suspended') });
  }

  /**
   * Stops the job as the upgrade mode of `spec` says — stateless cancels, savepoint stops with a savepoint, last-state
   * cancels and keeps the newest checkpoint (a job that already ended only gives its newest checkpoint) — and
   * records `spec` as UPGRADING, or suspended, after it.
   */
  private stop(spec: Json, thenRun: boolean, events: ReconcileEvent[]): SessionJobPlan {
    const mode = specUpgradeMode(spec);
    const job = this.status.jobStatus!;
    const mechanism: StopMechanism = isTerminal(job.state)
      ? 'latest-checkpoint'
      : mode === 'savepoint' && job.state === 'RUNNING'
        ? 'savepoint'
        : 'cancel';
    const base = this.status;
    const statusAfter = (path: string | undefined): FlinkSessionJobStatus => {
      const state = mechanism === 'latest-checkpoint' ? job.state : mechanism === 'savepoint' ? 'FINISHED' : 'CANCELED';
      const jobStatus: JobStatus = { ...base.jobStatus, state, updateTime: String(this.input.observation.now) };
      if (mode === 'stateless') delete jobStatus.upgradeSavepointPath;
      else if (path) jobStatus.upgradeSavepointPath = path;
      const recorded = this.record({ ...base, jobStatus }, withJob(spec, { upgradeMode: mode }), thenRun, 'suspended');
      return { ...recorded, lifecycleState: deriveLifecycleState(recorded, 'FlinkSessionJob') };
    };
    this.events.push(...events);
    const recordSavepoint = mechanism === 'savepoint' ? upgradeSavepointRecord(this.conf) : undefined;
    const action: SessionJobAction = {
      kind: 'stop-job',
      jobId: job.jobId!,
      mechanism,
      drain: false,
      restorePoint: mode !== 'stateless',
      checkpointStatsTtlMs: checkpointStatsTtlMs(this.conf),
      statusAfter,
      ...(recordSavepoint ? { recordSavepoint } : {}),
    };
    return this.done({ actions: [action], requeueAfterMs: 0 });
  }
}

/** The recorded spec's job state: running or suspended; undefined before the first submission. */
function lastJobState(status: FlinkSessionJobStatus | undefined): 'running' | 'suspended' | undefined {
  const state = asObject(lastReconciledSpec(status)?.spec.job)?.state;
  return state === 'running' || state === 'suspended' ? state : undefined;
}

function targetOf(session: SessionState): SessionTarget {
  return session.phase === 'absent' ? { state: 'missing' } : { state: 'found', deployment: session.deployment };
}

/** `kubernetes.operator.user.artifacts.http.header`: `name:value` pairs separated by `,`. */
export function parseArtifactHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const colon = pair.indexOf(':');
    if (colon > 0) headers[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  return headers;
}
