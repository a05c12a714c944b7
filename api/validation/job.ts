// The job of an application cluster or a session job (upstream DefaultValidator#validateJobSpec).
import { CHECKPOINT_DIR_KEYS, directoryOption, isBlank, SAVEPOINT_DIR_KEYS, type FlatConfig } from '../flink-config.js';
import { OPTIONS, rawOption } from '../operator-options.js';
import { periodProblem } from '../reconcile/period.js';
import { asInteger, asObject, asString, has, type Json } from './access.js';
import { configPath, fieldError, shown, type FieldError } from './field-error.js';

const PERIODIC_SAVEPOINT_KEY = OPTIONS.periodicSavepointInterval.key;
const MAX_CHECKPOINT_AGE_KEY = OPTIONS.maxCheckpointAge.key;

/** `taskManager` is the deployment's TaskManager section; session jobs have none, so they always need a parallelism. */
export function validateJobSpec(job: Json, taskManager: Json | undefined, config: FlatConfig): FieldError[] {
  return [...validateJobConfiguration(job, config), ...validateParallelism(job, taskManager)];
}

/** What the job's effective configuration must hold for its upgrade mode and snapshots (a session job's needs its session). */
export function validateJobConfiguration(job: Json, config: FlatConfig): FieldError[] {
  const errors: FieldError[] = [];
  const upgradeMode = asString(job.upgradeMode) ?? 'stateless';
  // An upgrade mode that is none of the three is a schema error of its own, and no reason to ask for directories.
  const stateful = upgradeMode === 'savepoint' || upgradeMode === 'last-state';
  if (stateful && directoryOption(config, CHECKPOINT_DIR_KEYS) === undefined) {
    errors.push(
      fieldError(
        configPath(CHECKPOINT_DIR_KEYS[0]),
        `a checkpoint directory is required for upgradeMode ${upgradeMode} (spec.job.upgradeMode)${hidden(config, CHECKPOINT_DIR_KEYS)}`,
      ),
    );
  }
  if (directoryOption(config, SAVEPOINT_DIR_KEYS) === undefined) {
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
      errors.push(
        fieldError(
          configPath(SAVEPOINT_DIR_KEYS[0]),
          `a savepoint directory is required for ${needsSavepointDir}${hidden(config, SAVEPOINT_DIR_KEYS)}`,
        ),
      );
    }
  }
  for (const opt of [OPTIONS.periodicSavepointInterval, OPTIONS.periodicCheckpointInterval]) {
    const raw = rawOption(config, opt);
    const problem = raw === undefined || raw.trim() === '' ? undefined : periodProblem(raw);
    if (problem)
      errors.push(
        fieldError(
          configPath(opt.key),
          `${shown(raw)} is neither a duration (e.g. 6 h) nor a Quartz cron expression: ${problem}`,
        ),
      );
  }
  return errors;
}

/** A parallelism that can run, unless TaskManager replicas size the job; it needs nothing from the configuration. */
export function validateParallelism(job: Json, taskManager: Json | undefined): FieldError[] {
  if (has(taskManager, 'replicas')) return [];
  const parallelism = asInteger(job.parallelism) ?? 0;
  if (parallelism >= 1) return [];
  const why = taskManager === undefined ? '' : ' when spec.taskManager.replicas is not set';
  return [fieldError('spec.job.parallelism', `must be ≥ 1${why} (got ${parallelism})`)];
}

/** Why a directory set under an older name does not count: the newer key is present but blank, and Flink stops there. */
function hidden(config: FlatConfig, keys: readonly [string, ...string[]]): string {
  const older = keys.slice(1).find((key) => !isBlank(config[key]));
  return config[keys[0]] !== undefined && older
    ? `; it is blank, which hides ${older} (Flink reads the first of these keys that is present)`
    : '';
}

export const jobOf = (spec: Json): Json | undefined => asObject(spec.job);
