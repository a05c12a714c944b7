// The job of an application cluster or a session job (upstream DefaultValidator#validateJobSpec).
import { CHECKPOINT_DIR_KEYS, firstSet, SAVEPOINT_DIR_KEYS, type FlatConfig } from '../flink-config.js';
import { OPTIONS, rawOption } from '../operator-options.js';
import { periodProblem } from '../reconcile/period.js';
import { asInteger, asObject, asString, has, type Json } from './access.js';
import { configPath, fieldError, type FieldError } from './field-error.js';

const PERIODIC_SAVEPOINT_KEY = OPTIONS.periodicSavepointInterval.key;
const MAX_CHECKPOINT_AGE_KEY = OPTIONS.maxCheckpointAge.key;

/** `taskManager` is the deployment's TaskManager section; session jobs have none, so they always need a parallelism. */
export function validateJobSpec(job: Json, taskManager: Json | undefined, config: FlatConfig): FieldError[] {
  const errors: FieldError[] = [];
  const upgradeMode = asString(job.upgradeMode) ?? 'stateless';
  if (upgradeMode !== 'stateless' && firstSet(config, CHECKPOINT_DIR_KEYS) === undefined) {
    errors.push(
      fieldError(
        configPath(CHECKPOINT_DIR_KEYS[0]),
        `a checkpoint directory is required for upgradeMode ${upgradeMode} (spec.job.upgradeMode)`,
      ),
    );
  }
  if (firstSet(config, SAVEPOINT_DIR_KEYS) === undefined) {
    const needsSavepointDir =
      upgradeMode === 'savepoint'
        ? 'upgradeMode savepoint'
        : has(job, 'savepointTriggerNonce')
          ? 'manual savepoints (spec.job.savepointTriggerNonce)'
          : rawOption(config, OPTIONS.periodicSavepointInterval) !== undefined
            ? `periodic savepoints (${PERIODIC_SAVEPOINT_KEY})`
            : rawOption(config, OPTIONS.maxCheckpointAge) !== undefined
              ? `savepoint upgrades past the maximum checkpoint age (${MAX_CHECKPOINT_AGE_KEY})`
              : undefined;
    if (needsSavepointDir) {
      errors.push(fieldError(configPath(SAVEPOINT_DIR_KEYS[0]), `a savepoint directory is required for ${needsSavepointDir}`));
    }
  }
  for (const opt of [OPTIONS.periodicSavepointInterval, OPTIONS.periodicCheckpointInterval]) {
    const raw = rawOption(config, opt);
    const problem = raw === undefined || raw.trim() === '' ? undefined : periodProblem(raw);
    if (problem) errors.push(fieldError(configPath(opt.key), `${JSON.stringify(raw!.slice(0, 80))} is neither a duration (e.g. 6 h) nor a Quartz cron expression: ${problem}`));
  }
  if (!has(taskManager, 'replicas')) {
    const parallelism = asInteger(job.parallelism) ?? 0;
    if (parallelism < 1) {
      const why = taskManager === undefined ? '' : ' when spec.taskManager.replicas is not set';
      errors.push(fieldError('spec.job.parallelism', `must be ≥ 1${why} (got ${parallelism})`));
    }
  }
  return errors;
}

export const jobOf = (spec: Json): Json | undefined => asObject(spec.job);
