// What the operator saw — the JobManager Deployment and Flink's REST API — folded into the status, as upstream's
// observers do (notes §6.2): JobManager deployment status, job status, stability, the Running condition.
import type { JobView, SampleResult } from '../autoscaler/sample.js';
import { OVERRIDES_KEY } from '../autoscaler/state.js';
import { GENERATION_ANNOTATION, OVERRIDES_ANNOTATION } from '../cluster/objects.js';
import { flattenConfig } from '../flink-config.js';
import { lastReconciledSpec, writeSpecEnvelope } from '../spec-envelope.js';
import type { Condition, FlinkDeploymentStatus, JobStatus } from '../types.generated.js';
import { asObject } from '../validation/access.js';
import type { OwnedSnapshot, SnapshotProgress } from './snapshots.js';

export type FlinkJobState = NonNullable<JobStatus['state']>;

/** One entry of Flink's `GET /jobs/overview`. */
export interface FlinkJob {
  id: string;
  name: string;
  state: FlinkJobState;
  startTime: number;
  /** Every task of the job is running (a job RUNNING may still be deploying its tasks: no snapshot can be taken yet). */
  allTasksRunning?: boolean;
}

/**
 * Why the JobManager's pods do not run: Kubernetes cannot create them (a ReplicaFailure condition: quota, Pod
 * Security, a missing account …) or a container of theirs cannot start or keeps crashing (containerFailure).
 */
export interface ReplicaFailure {
  reason: string;
  message: string;
}

export type JobManagerObservation =
  | { phase: 'absent' }
  | { phase: 'deleting' }
  | {
      phase: 'present';
      generation: number | undefined;
      /** The parallelism overrides it was deployed with ('' for none). */
      overrides?: string;
      available: boolean;
      replicaFailure?: ReplicaFailure;
    };

/** The JobManager Deployment as the planner needs it: there or not, the generation it was made for, its pods. */
export function observeJobManagerDeployment(
  deployment:
    | {
        metadata?: { deletionTimestamp?: string | Date; annotations?: Record<string, string> };
        status?: {
          availableReplicas?: number;
          conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
        };
      }
    | undefined,
): JobManagerObservation {
  if (!deployment) return { phase: 'absent' };
  if (deployment.metadata?.deletionTimestamp) return { phase: 'deleting' };
  const generation = Number(deployment.metadata?.annotations?.[GENERATION_ANNOTATION]);
  const failure = deployment.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  return {
    phase: 'present',
    generation: Number.isFinite(generation) ? generation : undefined,
    overrides: deployment.metadata?.annotations?.[OVERRIDES_ANNOTATION] ?? '',
    available: (deployment.status?.availableReplicas ?? 0) > 0,
    ...(failure
      ? {
          replicaFailure: {
            reason: failure.reason || 'FailedCreate',
            message: failure.message || 'the JobManager pod cannot be created',
          },
        }
      : {}),
  };
}

/** A pod's container statuses, as much of them as containerFailure reads. */
export interface PodContainers {
  metadata?: { name?: string };
  status?: { containerStatuses?: ContainerStatusLike[]; initContainerStatuses?: ContainerStatusLike[] };
}
interface ContainerStatusLike {
  name: string;
  state?: { waiting?: { reason?: string; message?: string }; running?: object };
  lastState?: { terminated?: { exitCode?: number; message?: string } };
}

/** Waiting reasons that do not resolve by themselves (upstream DeploymentFailedException.CONTAINER_ERROR_REASONS). */
const CONTAINER_ERROR_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'RunContainerError',
  'CreateContainerConfigError',
  'OOMKilled',
]);

/** A container stuck for good, and where: its pod and name (to read its log). */
export interface ContainerFailure extends ReplicaFailure {
  pod: string;
  container: string;
}

/**
 * The first container of the JobManager's pods stuck for good, as upstream reports it (`[container] message`). A
 * crash loop's message is its last termination's — with FallbackToLogsOnError the log's tail, of which the root cause
 * (the last `Caused by:`, else the last exception) is what a user needs, not eighty lines of shutdown.
 */
export function containerFailure(pods: readonly PodContainers[]): ContainerFailure | undefined {
  for (const pod of pods) {
    for (const container of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = container.state?.waiting;
      if (!waiting?.reason || !CONTAINER_ERROR_REASONS.has(waiting.reason)) continue;
      const terminated = waiting.reason === 'CrashLoopBackOff' ? container.lastState?.terminated : undefined;
      const message = terminated?.message?.trim()
        ? crashLoopMessage(container.name, rootCause(terminated.message))
        : terminated?.exitCode !== undefined
          ? crashLoopMessage(container.name, `exit code ${terminated.exitCode}`)
          : `[${container.name}] ${waiting.message ?? waiting.reason}`;
      return { reason: waiting.reason, message, pod: pod.metadata?.name ?? '', container: container.name };
    }
  }
  return undefined;
}

/**
 * A crash loop's failure told by the crashed container's own log (`kubectl logs --previous`): a JVM's root cause is
 * often a hundred lines above its shutdown, beyond the termination message's 80 lines.
 */
export function withLogCause(failure: ContainerFailure, log: string): ContainerFailure {
  const cause = rootCause(log);
  return cause ? { ...failure, message: crashLoopMessage(failure.container, cause) } : failure;
}

/** Only a crash loop newly seen has its log read: while the status is in ERROR its error is kept (observeStatus). */
export function crashLogWanted(
  failure: ContainerFailure | undefined,
  status: FlinkDeploymentStatus | undefined,
): failure is ContainerFailure {
  return failure?.reason === 'CrashLoopBackOff' && status?.jobManagerDeploymentStatus !== 'ERROR';
}

/** Upstream's wording of a crash loop (DeploymentFailedException.forContainerStatus). */
const crashLoopMessage = (container: string, cause: string) => `[${container}] CrashLoop - ${cause}`;

/** How much of a crashed container's log is read for its cause (`tailLines`, `limitBytes` of the pods/log call). */
export const CRASH_LOG_LINES = 1000;
export const CRASH_LOG_BYTES = 256 * 1024;

const EXCEPTION_LINE = /(?:^|\s)((?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)\b.*)$/;

/** From a log's tail, the line that says why: the last `Caused by:`, else the last exception, else the last line. */
export function rootCause(log: string): string {
  const lines = log
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  for (let i = lines.length - 1; i >= 0; i--)
    if (lines[i]!.startsWith('Caused by: ')) return lines[i]!.slice('Caused by: '.length);
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = EXCEPTION_LINE.exec(lines[i]!);
    if (match) return match[1]!;
  }
  return lines.at(-1) ?? '';
}

export type RestObservation =
  | { reachable: false; error: string }
  | { reachable: true; jobs: FlinkJob[]; flinkVersion?: string; flinkRevision?: string };

export interface Observation {
  now: number;
  jobManager: JobManagerObservation;
  /** Asked only when a JobManager is available. */
  rest?: RestObservation;
  /** Why the recorded job failed, when Flink says FAILED (its execution result or exception history). */
  failure?: JobFailure;
  /** What Flink says of the savepoint or checkpoint in flight, if one is. */
  snapshots?: SnapshotProgress[];
  /** The FlinkStateSnapshots that name this job. */
  ownedSnapshots?: OwnedSnapshot[];
  /**
   * With Kubernetes HA and no JobManager: whether Flink's HA ConfigMaps still hold a job to recover (upstream's
   * isHaMetadataAvailable: a job's own `-config-map`, or an old-style `-jobmanager-leader` one).
   */
  haMetadata?: boolean;
  /** The FlinkSessionJobs that name this (session) cluster; `occupying`: its job runs there or is being submitted. */
  sessionJobs?: { name: string; occupying: boolean }[];
  /** For the autoscaler and in-place rescaling of a running job. */
  autoscaler?: AutoscalerObservation;
}

export interface AutoscalerObservation {
  /** The ConfigMap `autoscaler-<name>`: its data and resourceVersion; absent when there is none. */
  stored?: { data: Record<string, string>; resourceVersion: string };
  /** `GET /jobs/:id` of the running job: its topology and the parallelism each vertex runs at. */
  view?: JobView;
  /** This cycle's sample, or why there is none (only when one is due). */
  sample?: SampleResult;
}

/** A Java throwable as upstream's FlinkResourceException renders it in `status.error`. */
export interface JobFailure {
  type: string;
  message: string;
  throwableList?: { type: string; message: string }[];
}

export const TERMINAL_JOB_STATES: readonly FlinkJobState[] = ['FAILED', 'CANCELED', 'FINISHED'];
export const isTerminal = (state: string | undefined): boolean => TERMINAL_JOB_STATES.includes(state as FlinkJobState);

/**
 * A job whose cluster the operator deleted, or that it stopped for a suspend or an upgrade (upstream's
 * updateStatusAfterClusterDeletion and cancelJob): what had not ended by itself is now FINISHED, as upstream reports
 * it; FAILED, CANCELED and FINISHED keep Flink's own word, and a resource that never had a job keeps none.
 */
export function jobEnded(job: JobStatus, now: number): JobStatus {
  return job.state === undefined || isTerminal(job.state)
    ? job
    : { ...job, state: 'FINISHED', updateTime: String(now) };
}

/** `status.error` as upstream writes it: a JSON document `{"type", "message"}`. */
export function errorDocument(type: string, message: string, throwableList?: JobFailure['throwableList']): string {
  return JSON.stringify({ type, message, ...(throwableList ? { throwableList } : {}) });
}

export const MISSING_JOB_MANAGER = 'Missing JobManager deployment';

/** The recorded spec's job state, or undefined for a session cluster or before the first deploy. */
export function reconciledJobState(status: FlinkDeploymentStatus | undefined): 'running' | 'suspended' | undefined {
  const state = asObject(lastReconciledSpec(status)?.spec.job)?.state;
  return state === 'running' || state === 'suspended' ? state : undefined;
}

export interface ObservedStatus {
  status: FlinkDeploymentStatus;
  /** The job changed state (for a JobStatusChanged event). */
  jobTransition?: { from: string | undefined; to: FlinkJobState };
  /** The JobManager Deployment went missing while it should run (for a Missing event). */
  jobManagerLost: boolean;
  /** Its pods newly cannot be created (for a Warning event with Kubernetes' reason). */
  replicaFailure?: ReplicaFailure;
}

export const DEPLOYMENT_FAILED_TYPE = 'org.apache.flink.kubernetes.operator.exception.DeploymentFailedException';

export function observeStatus(
  name: string,
  generation: number,
  current: FlinkDeploymentStatus | undefined,
  seen: Observation,
): ObservedStatus {
  const status: FlinkDeploymentStatus = structuredClone(current ?? {});
  const rs = (status.reconciliationStatus ??= {});
  const job: JobStatus = (status.jobStatus ??= {});
  const isSession = lastReconciledSpec(status) !== undefined && !asObject(lastReconciledSpec(status)!.spec.job);
  const reconciledState = reconciledJobState(status);
  const shouldRun = rs.lastReconciledSpec !== undefined && (isSession || reconciledState === 'running');
  let jobTransition: ObservedStatus['jobTransition'];
  let jobManagerLost = false;
  let replicaFailure: ReplicaFailure | undefined;
  const setJobState = (state: FlinkJobState) => {
    if (job.state === state) return;
    jobTransition = { from: job.state, to: state };
    job.state = state;
    job.updateTime = String(seen.now);
  };

  // Upgrade already happened but was not recorded (a restart between deploying and recording it): the
  // JobManager carries the generation the UPGRADING status was written for — and the parallelism overrides, which an
  // autoscaler rescale changes without a new generation.
  const jm = seen.jobManager;
  const upgrading = rs.state === 'UPGRADING' ? lastReconciledSpec(status) : undefined;
  if (
    upgrading &&
    jm.phase === 'present' &&
    jm.generation !== undefined &&
    jm.generation === status.observedGeneration &&
    (jm.overrides ?? '') === (flattenConfig(asObject(upgrading.spec)?.flinkConfiguration)[OVERRIDES_KEY] ?? '') &&
    reconciledState !== 'running'
  ) {
    rs.state = 'DEPLOYED';
    rs.lastReconciledSpec = recordedSpec(upgrading, 'running');
  }

  if (jm.phase !== 'present') {
    const wasThere = status.jobManagerDeploymentStatus !== undefined && status.jobManagerDeploymentStatus !== 'MISSING';
    status.jobManagerDeploymentStatus = 'MISSING';
    if (shouldRun && rs.state === 'DEPLOYED' && wasThere && jm.phase === 'absent') {
      jobManagerLost = true;
      status.error = errorDocument(
        'org.apache.flink.kubernetes.operator.exception.MissingJobManagerException',
        MISSING_JOB_MANAGER,
      );
    }
    if (shouldRun && !isTerminal(job.state) && job.state !== undefined) setJobState('RECONCILING');
    // Suspended with no cluster left: nothing runs, whatever an earlier status said (one written before this rule).
    if (rs.state === 'DEPLOYED' && reconciledState === 'suspended') {
      const ended = jobEnded(job, seen.now).state;
      if (ended) setJobState(ended);
    }
  } else if (!jm.available && jm.replicaFailure) {
    // Upstream's DeploymentFailedException: ERROR, the job RECONCILING, Kubernetes' reason in the error and an event —
    // written when it begins (as upstream, which throws only when not in ERROR yet), kept while it lasts.
    if (status.jobManagerDeploymentStatus !== 'ERROR' || status.error === undefined) {
      replicaFailure = { reason: jm.replicaFailure.reason, message: jm.replicaFailure.message };
      status.error = errorDocument(DEPLOYMENT_FAILED_TYPE, jm.replicaFailure.message);
    }
    status.jobManagerDeploymentStatus = 'ERROR';
    if (job.state !== undefined && !isTerminal(job.state)) setJobState('RECONCILING');
  } else if (!jm.available || !seen.rest?.reachable) {
    status.jobManagerDeploymentStatus = 'DEPLOYING';
    if (job.state === 'RUNNING') setJobState('RECONCILING');
  } else {
    status.jobManagerDeploymentStatus = 'READY';
    const rest = seen.rest;
    const info = { ...status.clusterInfo };
    if (rest.flinkVersion) info['flink-version'] = rest.flinkVersion;
    if (rest.flinkRevision) info['flink-revision'] = rest.flinkRevision;
    status.clusterInfo = info;
    const flinkJob = job.jobId ? rest.jobs.find((j) => j.id === job.jobId) : undefined;
    if (flinkJob) {
      job.jobName = flinkJob.name;
      if (flinkJob.startTime > 0) job.startTime = String(flinkJob.startTime);
      setJobState(flinkJob.state);
      if (flinkJob.state === 'FAILED' && seen.failure)
        status.error = errorDocument(seen.failure.type, seen.failure.message, seen.failure.throwableList);
    }
    // Stable (upstream checkAndUpdateStableSpec / SessionObserver): the job runs, or finished by itself, or the
    // session cluster answers, while the reconciled spec is deployed.
    const stable =
      rs.state === 'DEPLOYED' &&
      (isSession || (reconciledState === 'running' && (job.state === 'RUNNING' || job.state === 'FINISHED')));
    if (stable) rs.lastStableSpec = rs.lastReconciledSpec;
    if (rs.lastStableSpec === rs.lastReconciledSpec && job.state !== 'FAILED' && rs.lastReconciledSpec !== undefined)
      delete status.error;
  }

  status.conditions = runningCondition(status, isSession, generation, seen.now);
  return { status, jobTransition, jobManagerLost, ...(replicaFailure ? { replicaFailure } : {}) };
}

/** A copy of a spec with some of its job's fields replaced (a session cluster's spec, which has no job, as it is). */
export function withJob(
  spec: Record<string, unknown>,
  fields: { state?: 'running' | 'suspended'; upgradeMode?: string },
): Record<string, unknown> {
  const copy = structuredClone(spec);
  const job = asObject(copy.job);
  if (job) Object.assign(job, fields);
  return copy;
}

/** The recorded spec text with its job state replaced, everything else as it was. */
export function recordedSpec(
  envelope: NonNullable<ReturnType<typeof lastReconciledSpec>>,
  jobState: 'running' | 'suspended',
): string {
  return writeSpecEnvelope({ ...envelope, spec: withJob(envelope.spec, { state: jobState }) });
}

/** Upstream's single `Running` condition; its transition time moves only when its status does. */
function runningCondition(
  status: FlinkDeploymentStatus,
  isSession: boolean,
  generation: number,
  now: number,
): Condition[] {
  const previous = status.conditions?.find((c) => c.type === 'Running');
  let condition: Condition;
  if (isSession) {
    const jm = status.jobManagerDeploymentStatus ?? 'MISSING';
    const [reason, message] = JM_REASONS[jm];
    condition = { type: 'Running', status: jm === 'READY' ? 'True' : 'False', reason, message };
  } else {
    const state = status.jobStatus?.state;
    if (state === undefined) return status.conditions ?? [];
    condition = {
      type: 'Running',
      status: state === 'RUNNING' ? 'True' : 'False',
      reason: camel(state),
      message: `Job status ${state}`,
    };
  }
  const kept =
    previous &&
    previous.status === condition.status &&
    previous.reason === condition.reason &&
    previous.message === condition.message
      ? previous
      : undefined;
  return [
    {
      ...condition,
      lastTransitionTime: kept?.lastTransitionTime ?? new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      observedGeneration: kept?.observedGeneration ?? generation,
    },
  ];
}

const JM_REASONS: Record<NonNullable<FlinkDeploymentStatus['jobManagerDeploymentStatus']>, [string, string]> = {
  READY: ['JobManagerReady', 'JobManager is running and ready to receive REST API calls'],
  DEPLOYED_NOT_READY: ['DeployedNotReady', 'JobManager is running but not ready yet to receive REST API calls'],
  DEPLOYING: ['JobManagerIsDeploying', 'JobManager process is starting up'],
  MISSING: ['JobManagerDeploymentMissing', 'JobManager deployment not found'],
  ERROR: ['Error', 'JobManager deployment failed'],
};

function camel(state: string): string {
  return state.charAt(0) + state.slice(1).toLowerCase();
}
