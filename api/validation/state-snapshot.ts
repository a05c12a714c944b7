// FlinkStateSnapshot rules: upstream DefaultValidator#validateStateSnapshot (§3.8), plus what would otherwise only
// fail later: a savepoint said to exist needs its path, and the job named must be one that can be snapshotted.
import { dialect } from '../flink-versions.js';
import { asInteger, asObject, asString, type Json } from './access.js';
import { fieldError, shown, type FieldError } from './field-error.js';
import type { Verdict } from './session-job.js';

/** What the caller knows of the job resource a snapshot names. */
export type JobTarget =
  { state: 'found'; resource: Json } | { state: 'missing' } | { state: 'unknown'; reason: string };

export interface JobReference {
  kind: 'FlinkDeployment' | 'FlinkSessionJob';
  name: string;
}

/** The job a snapshot names, when it names one completely. */
export function jobReferenceOf(snapshot: Json): JobReference | undefined {
  const reference = asObject(asObject(snapshot.spec)?.jobReference);
  const kind = asString(reference?.kind);
  const name = asString(reference?.name);
  if ((kind !== 'FlinkDeployment' && kind !== 'FlinkSessionJob') || !name) return undefined;
  return { kind, name };
}

/** A savepoint the user says exists: recorded as it is, with no job needed. */
export function recordsExistingSavepoint(snapshot: Json): boolean {
  return asObject(asObject(snapshot.spec)?.savepoint)?.alreadyExists === true;
}

export function validateFlinkStateSnapshot(resource: Json, target: JobTarget): Verdict {
  const spec = asObject(resource.spec) ?? {};
  const savepoint = asObject(spec.savepoint);
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  if ((savepoint !== undefined) === (asObject(spec.checkpoint) !== undefined)) {
    errors.push(
      fieldError(
        'spec',
        `exactly one of spec.savepoint and spec.checkpoint must be set (${savepoint ? 'both are' : 'neither is'})`,
      ),
    );
  }
  const backoffLimit = asInteger(spec.backoffLimit);
  if (backoffLimit !== undefined && backoffLimit < -1)
    errors.push(fieldError('spec.backoffLimit', `must be -1 (retry forever) or more, not ${backoffLimit}`));
  if (recordsExistingSavepoint(resource)) {
    if (!asString(savepoint?.path))
      errors.push(fieldError('spec.savepoint.path', 'is required when alreadyExists is true (where the savepoint is)'));
    return { errors, warnings };
  }
  const reference = asObject(spec.jobReference);
  if (!reference) {
    errors.push(
      fieldError(
        'spec.jobReference',
        'is required (the FlinkDeployment or FlinkSessionJob to snapshot) unless spec.savepoint.alreadyExists is true',
      ),
    );
    return { errors, warnings };
  }
  if (reference.kind === undefined)
    errors.push(fieldError('spec.jobReference.kind', 'is required: FlinkDeployment or FlinkSessionJob'));
  if (!asString(reference.name)) errors.push(fieldError('spec.jobReference.name', 'is required'));
  // As upstream: the target is checked until the snapshot has been triggered (a job may go away after that).
  const state = asString(asObject(resource.status)?.state);
  if (state !== undefined && state !== 'TRIGGER_PENDING') return { errors, warnings };
  const jobReference = jobReferenceOf(resource);
  if (!jobReference) return { errors, warnings };
  const problem = targetProblem(jobReference, target);
  if (problem) errors.push(fieldError('spec.jobReference.name', problem));
  const version = target.state === 'found' ? asString(asObject(target.resource.spec)?.flinkVersion) : undefined;
  if (asObject(spec.checkpoint) && version !== undefined && !dialect(version).triggersCheckpoints)
    errors.push(
      fieldError(
        'spec.checkpoint',
        `${jobReference.kind} ${shown(jobReference.name)} runs Flink ${version}, which cannot take a checkpoint on request (Flink 1.17 and later can); take a savepoint instead`,
      ),
    );
  if (target.state === 'unknown')
    warnings.push(
      `spec.jobReference: ${jobReference.kind} ${shown(jobReference.name)} could not be checked (${target.reason}); the operator checks it before triggering`,
    );
  return { errors, warnings };
}

/** Why a snapshot of this target cannot be taken, if it cannot; the reconciler fails a snapshot for the same reasons. */
export function targetProblem(reference: JobReference, target: JobTarget): string | undefined {
  const named = `${reference.kind} ${shown(reference.name)}`;
  if (target.state === 'missing') return `${named} does not exist in this namespace`;
  if (target.state !== 'found') return undefined;
  const job = asObject(asObject(target.resource.spec)?.job);
  if (!job) return `${named} is a session cluster, which has no job of its own: name one of its FlinkSessionJobs`;
  if (job.state === 'suspended')
    return `${named} is suspended (spec.job.state: suspended): a snapshot needs a running job`;
  return undefined;
}
