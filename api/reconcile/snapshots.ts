// Savepoints and checkpoints while a job runs (upstream SnapshotUtils and SnapshotObserver, notes §6.6): a changed
// trigger nonce asks for one, a periodic interval asks again and again, one of each kind at a time. With snapshot
// resources on (the default) each is a FlinkStateSnapshot the job owns, which its own controller takes; the history
// bound deletes the oldest periodic and upgrade ones. In the legacy status mode the snapshot in flight is tracked by a
// trigger id the operator chooses and writes to the status before it asks Flink, so an operator restarted
// mid-snapshot polls the same one (or asks again under the same id) instead of taking a second; completed savepoints
// go to a bounded history in the status and the oldest are disposed through Flink.
import { option, OPTIONS } from '../operator-options.js';
import { readSpecEnvelope, writeSpecEnvelope } from '../spec-envelope.js';
import type { FlatConfig } from '../flink-config.js';
import { periodDue } from './period.js';
import type { CheckpointInfo, JobStatus, SavepointInfo } from '../types.generated.js';
import { asObject, type Json } from '../validation/access.js';
import type { ReconcileEvent, RecordedStatus } from './context.js';

export type SnapshotKind = 'savepoint' | 'checkpoint';
type TriggerType = 'MANUAL' | 'PERIODIC';

/** A FlinkStateSnapshot that names the job, as its planner needs it. */
export interface OwnedSnapshot {
  name: string;
  kind: SnapshotKind;
  triggerType: string;
  state?: string;
  path?: string;
  createdMs: number;
  deleting: boolean;
}

/** A FlinkStateSnapshot to create for the job (see `newSnapshotResource`). */
export interface SnapshotRequest {
  snapshot: SnapshotKind;
  triggerType: 'MANUAL' | 'PERIODIC' | 'UPGRADE';
  /** UPGRADE: the savepoint already taken, recorded as it is. */
  path?: string;
  disposeOnDelete: boolean;
}

/** What Flink says of the snapshot in flight (`GET /jobs/:id/savepoints|checkpoints/:triggerId`). */
export type SnapshotProgress =
  | { kind: SnapshotKind; triggerId: string; state: 'pending' }
  | { kind: SnapshotKind; triggerId: string; state: 'completed'; location?: string }
  | { kind: SnapshotKind; triggerId: string; state: 'failed'; reason: string }
  /** Flink does not know the trigger id: the trigger never reached it (the operator stopped in between). */
  | { kind: SnapshotKind; triggerId: string; state: 'unknown' };

export type SnapshotAction =
  | { kind: 'trigger-snapshot'; snapshot: SnapshotKind; jobId: string; triggerId: string }
  | { kind: 'dispose-savepoints'; paths: string[] }
  | { kind: 'create-snapshot'; request: SnapshotRequest }
  | { kind: 'delete-snapshots'; names: string[] };

export interface SnapshotInput {
  job: JobStatus;
  /** The user's job spec and the one last reconciled (its nonces are those already acted on). */
  spec: Json;
  reconciled: Json;
  conf: FlatConfig;
  now: number;
  progress: SnapshotProgress[];
  /** Flink runs every task of the job: before that a snapshot would only fail. */
  tasksRunning: boolean;
  /** A fresh 32-hex id for a snapshot triggered in this step (savepoints and checkpoints have separate id spaces). */
  newTriggerId: string;
  /** The FlinkStateSnapshots naming this job (read when snapshot resources are on). */
  owned?: OwnedSnapshot[];
}

export interface SnapshotStep {
  job: JobStatus;
  /** Nonces now acted on, to record in the last reconciled spec. */
  nonces: { savepointTriggerNonce?: number; checkpointTriggerNonce?: number };
  events: ReconcileEvent[];
  actions: SnapshotAction[];
}

const NONCE: Record<SnapshotKind, 'savepointTriggerNonce' | 'checkpointTriggerNonce'> = {
  savepoint: 'savepointTriggerNonce',
  checkpoint: 'checkpointTriggerNonce',
};

/** For a job that runs: fold in what Flink said of snapshots in flight, then trigger what is due and dispose what aged. */
export function planSnapshots(input: SnapshotInput): SnapshotStep {
  const step: SnapshotStep = { job: structuredClone(input.job), nonces: {}, events: [], actions: [] };
  for (const progress of input.progress) foldProgress(step, input, progress);
  for (const kind of ['savepoint', 'checkpoint'] as const) triggerIfDue(step, input, kind);
  disposeAged(step, input);
  if (resourcesOn(input.conf)) deleteAgedResources(step, input);
  return step;
}

export const resourcesOn = (conf: FlatConfig): boolean => option(conf, OPTIONS.snapshotResourceEnabled);

/** With snapshot resources on, the savepoint an upgrade or suspend took is recorded as an UPGRADE FlinkStateSnapshot. */
export function upgradeSavepointRecord(conf: FlatConfig): SnapshotRequest | undefined {
  return resourcesOn(conf)
    ? { snapshot: 'savepoint', triggerType: 'UPGRADE', disposeOnDelete: option(conf, OPTIONS.savepointDisposeOnDelete) }
    : undefined;
}

/** A snapshot resource still to finish (no state yet, pending or in progress). */
const inFlight = (s: OwnedSnapshot): boolean =>
  !s.deleting && (s.state === undefined || s.state === 'TRIGGER_PENDING' || s.state === 'IN_PROGRESS');

type Info = SavepointInfo & CheckpointInfo;
/** The info of a kind as it is (an empty one, not attached, when there is none: nothing is written for nothing). */
const infoOf = (job: JobStatus, kind: SnapshotKind): Info =>
  ((kind === 'savepoint' ? job.savepointInfo : job.checkpointInfo) ?? {}) as Info;
const attach = (job: JobStatus, kind: SnapshotKind, info: Info): void => {
  if (kind === 'savepoint') job.savepointInfo = info;
  else job.checkpointInfo = info;
};

function foldProgress(step: SnapshotStep, input: SnapshotInput, progress: SnapshotProgress): void {
  const info = infoOf(step.job, progress.kind);
  if (info.triggerId !== progress.triggerId) return;
  if (progress.state === 'pending') return;
  if (progress.state === 'unknown') {
    step.actions.push({
      kind: 'trigger-snapshot',
      snapshot: progress.kind,
      jobId: step.job.jobId!,
      triggerId: progress.triggerId,
    });
    return;
  }
  const triggerType: TriggerType = info.triggerType === 'PERIODIC' ? 'PERIODIC' : 'MANUAL';
  const nonce = triggerType === 'MANUAL' ? asNonce(asObject(input.reconciled.job)?.[NONCE[progress.kind]]) : undefined;
  const label = progress.kind === 'savepoint' ? 'Savepoint' : 'Checkpoint';
  clearTrigger(info);
  attach(step.job, progress.kind, info);
  if (progress.state === 'failed') {
    step.events.push({ type: 'Warning', reason: `${label}Error`, message: `${label} failed: ${progress.reason}` });
    return;
  }
  const done = { timeStamp: input.now, triggerType, ...(nonce !== undefined ? { triggerNonce: nonce } : {}) };
  if (progress.kind === 'savepoint') {
    const savepoint = { ...done, location: progress.location, formatType: 'CANONICAL' as const };
    info.lastSavepoint = savepoint;
    info.savepointHistory = [...(info.savepointHistory ?? []), savepoint];
  } else {
    info.lastCheckpoint = { ...done, formatType: 'FULL' };
  }
  step.events.push({
    type: 'Normal',
    reason: label === 'Savepoint' ? 'SavepointCompleted' : 'CheckpointCompleted',
    message: `${label} completed${progress.location ? `: ${progress.location}` : ''}`,
  });
}

function clearTrigger(info: SavepointInfo & CheckpointInfo): void {
  delete info.triggerId;
  delete info.triggerTimestamp;
  delete info.triggerType;
  delete info.formatType;
}

/** A manual trigger when the nonce changed to a value not yet acted on; else a periodic one when its interval passed. */
function triggerIfDue(step: SnapshotStep, input: SnapshotInput, kind: SnapshotKind): void {
  const info = infoOf(step.job, kind);
  const asResource = resourcesOn(input.conf);
  const busy = info.triggerId || (asResource && (input.owned ?? []).some((s) => s.kind === kind && inFlight(s)));
  if (busy || !step.job.jobId || step.job.state !== 'RUNNING' || !input.tasksRunning) return;
  const wanted = asNonce(asObject(input.spec.job)?.[NONCE[kind]]);
  const manual = wanted !== undefined && wanted !== asNonce(asObject(input.reconciled.job)?.[NONCE[kind]]);
  let triggerType: TriggerType | undefined = manual ? 'MANUAL' : undefined;
  if (!triggerType) {
    const period = option(
      input.conf,
      kind === 'savepoint' ? OPTIONS.periodicSavepointInterval : OPTIONS.periodicCheckpointInterval,
    );
    const last =
      (kind === 'savepoint' ? info.lastPeriodicSavepointTimestamp : info.lastPeriodicCheckpointTimestamp) ||
      Number(step.job.startTime) ||
      input.now;
    if (periodDue(period, last, input.now)) triggerType = 'PERIODIC';
  }
  if (!triggerType) return;
  if (triggerType === 'PERIODIC') {
    if (kind === 'savepoint') info.lastPeriodicSavepointTimestamp = input.now;
    else info.lastPeriodicCheckpointTimestamp = input.now;
    attach(step.job, kind, info);
  } else {
    step.nonces[NONCE[kind]] = wanted;
  }
  if (asResource) {
    // Manual ones are the user's to delete; periodic ones go with the history, disposed of as configured.
    const disposeOnDelete = triggerType === 'MANUAL' || option(input.conf, OPTIONS.savepointDisposeOnDelete);
    step.actions.push({ kind: 'create-snapshot', request: { snapshot: kind, triggerType, disposeOnDelete } });
    return;
  }
  const triggerId = input.newTriggerId;
  Object.assign(info, {
    triggerId,
    triggerTimestamp: input.now,
    triggerType,
    formatType: kind === 'savepoint' ? 'CANONICAL' : 'FULL',
  });
  attach(step.job, kind, info);
  step.actions.push({ kind: 'trigger-snapshot', snapshot: kind, jobId: step.job.jobId, triggerId });
}

/**
 * Upstream's history of snapshot resources: of the periodic and upgrade ones of each kind, oldest first, those beyond
 * the count (savepoints: `history.max.count`; checkpoints: the retained-checkpoint count) or older than
 * `history.max.age` are deleted — never the newest completed one, never the last one, never one in flight, never the
 * one an upgrade restores from.
 */
function deleteAgedResources(step: SnapshotStep, input: SnapshotInput): void {
  const names: string[] = [];
  for (const kind of ['savepoint', 'checkpoint'] as const) {
    const history = (input.owned ?? [])
      .filter((s) => s.kind === kind && !s.deleting && (s.triggerType === 'PERIODIC' || s.triggerType === 'UPGRADE'))
      .sort((a, b) => a.createdMs - b.createdMs);
    if (history.length < 2) continue;
    const newestCompleted = history.filter((s) => s.state === 'COMPLETED').at(-1);
    const maxCount = Math.max(
      1,
      kind === 'savepoint' ? option(input.conf, OPTIONS.savepointHistoryMaxCount) : retainedCheckpoints(input.conf),
    );
    const oldestKept = kind === 'savepoint' ? input.now - option(input.conf, OPTIONS.savepointHistoryMaxAge) : 0;
    const doomed: OwnedSnapshot[] = [];
    for (const s of history) {
      if (s === newestCompleted || inFlight(s) || (s.path && s.path === step.job.upgradeSavepointPath)) continue;
      if (doomed.length === history.length - 1) break;
      if (history.length - doomed.length > maxCount || s.createdMs < oldestKept) doomed.push(s);
    }
    names.push(...doomed.map((s) => s.name));
  }
  if (names.length > 0) step.actions.push({ kind: 'delete-snapshots', names });
}

const retainedCheckpoints = (conf: FlatConfig): number =>
  Number(conf['execution.checkpointing.num-retained'] ?? conf['state.checkpoints.num-retained'] ?? 1) || 1;

/**
 * Keeps at most `history.max.count` savepoints no older than `history.max.age`; the newest one and the one the next
 * upgrade restores from are never disposed.
 */
function disposeAged(step: SnapshotStep, input: SnapshotInput): void {
  const info = step.job.savepointInfo;
  const history = info?.savepointHistory ?? [];
  if (history.length === 0) return;
  const maxCount = Math.max(1, option(input.conf, OPTIONS.savepointHistoryMaxCount));
  const maxAge = option(input.conf, OPTIONS.savepointHistoryMaxAge);
  const protectedPaths = new Set([info?.lastSavepoint?.location, step.job.upgradeSavepointPath].filter(Boolean));
  const newestFirst = [...history].sort((a, b) => (b.timeStamp ?? 0) - (a.timeStamp ?? 0));
  const aged = newestFirst.filter(
    (s, i) => !protectedPaths.has(s.location) && (i >= maxCount || input.now - (s.timeStamp ?? 0) > maxAge),
  );
  if (aged.length === 0) return;
  info!.savepointHistory = history.filter((s) => !aged.includes(s));
  const paths = aged.map((s) => s.location).filter((p): p is string => Boolean(p));
  if (paths.length > 0) step.actions.push({ kind: 'dispose-savepoints', paths });
}

function asNonce(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/**
 * The nonces acted on, written into the last reconciled spec (and the stable one, when they were the same): the
 * record of which manual snapshots were taken, as upstream keeps it.
 */
export function recordNonces<S extends RecordedStatus>(status: S, nonces: SnapshotStep['nonces']): S {
  if (Object.keys(nonces).length === 0) return status;
  const rs = status.reconciliationStatus;
  const envelope = readSpecEnvelope(rs?.lastReconciledSpec);
  if (!rs || !envelope) return status;
  const job = asObject(envelope.spec.job);
  if (!job) return status;
  Object.assign(job, nonces);
  const written = writeSpecEnvelope(envelope);
  const wasStable = rs.lastStableSpec === rs.lastReconciledSpec;
  return {
    ...status,
    reconciliationStatus: { ...rs, lastReconciledSpec: written, ...(wasStable ? { lastStableSpec: written } : {}) },
  };
}

/** A spec whose trigger nonces are those of `reconciled`: recording other changes must not mark a snapshot as taken. */
export function withReconciledNonces(spec: Json, reconciled: Json): Json {
  const copy = structuredClone(spec);
  const job = asObject(copy.job);
  const before = asObject(reconciled.job);
  if (!job) return copy;
  for (const key of Object.values(NONCE)) {
    if (before?.[key] === undefined) delete job[key];
    else job[key] = before[key];
  }
  return copy;
}
