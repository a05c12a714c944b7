// FlinkSessionJob rules: upstream DefaultValidator#validateSessionJob (§3.7).
import { defaultConfigFor, effectiveConfig, type FlatConfig } from '../flink-config.js';
import type { JsonValue } from '../kubernetes-types.js';
import { lastReconciledSpec } from '../spec-envelope.js';
import { asObject, asString, type Json } from './access.js';
import { validateName } from './deployment.js';
import { fieldError, shown, type FieldError } from './field-error.js';
import { validateJarUri, type HostResolution } from './jar-uri.js';
import { validateJobConfiguration, validateParallelism } from './job.js';

/** What the caller knows of the target session FlinkDeployment. */
export type SessionTarget =
  { state: 'found'; deployment: Json } | { state: 'missing' } | { state: 'unknown'; reason: string };

export interface Verdict {
  errors: FieldError[];
  warnings: string[];
  /** Problems found beyond the ones listed in `errors`. */
  omitted?: number;
}

/** Operator defaults for the session's Flink version, then the session's configuration, then the job's. */
export function sessionJobConfig(
  operatorConfig: FlatConfig,
  sessionJob: Json,
  target: SessionTarget,
): Record<string, string> {
  const namespace = asString(asObject(sessionJob.metadata)?.namespace);
  const session = target.state === 'found' ? asObject(target.deployment.spec) : undefined;
  const defaults = defaultConfigFor(operatorConfig, namespace, asString(session?.flinkVersion));
  const overlays = [session?.flinkConfiguration, asObject(sessionJob.spec)?.flinkConfiguration].filter(
    (c): c is JsonValue => asObject(c) !== undefined,
  );
  return effectiveConfig(defaults, ...overlays);
}

/**
 * `config` is the job's effective configuration; the jar-URI rule reads `operatorConfig` alone, as upstream does: a
 * resource must not widen the schemes it may fetch from or switch the restricted-host check off for itself.
 */
export function validateFlinkSessionJob(
  resource: Json,
  config: FlatConfig,
  target: SessionTarget,
  jarHost: HostResolution | undefined,
  operatorConfig: FlatConfig,
): Verdict {
  const spec = asObject(resource.spec) ?? {};
  const job = asObject(spec.job);
  const deploymentName = spec.deploymentName;
  const errors: FieldError[] = [...validateName(deploymentName, 'spec.deploymentName')];
  const warnings: string[] = [];
  if (!job) errors.push(fieldError('spec.job', 'is required (the job to run on the session cluster)'));

  const last = lastReconciledSpec(resource.status)?.spec;
  if (last && last.deploymentName !== undefined && deploymentName !== last.deploymentName) {
    errors.push(
      fieldError(
        'spec.deploymentName',
        `cannot change after the job was submitted (was ${shown(last.deploymentName)}); create a new FlinkSessionJob`,
      ),
    );
  }

  const jarURI = asString(job?.jarURI);
  if (jarURI !== undefined) {
    const verdict = validateJarUri(jarURI, operatorConfig, jarHost);
    errors.push(...verdict.errors);
    warnings.push(...verdict.warnings);
  }

  // A parallelism below 1 never runs on any session: refused whatever is known of the target (upstream checks it only
  // once the session is found).
  if (job) errors.push(...validateParallelism(job, undefined));
  if (target.state === 'found') {
    if (asObject(target.deployment.spec)?.job) {
      errors.push(
        fieldError(
          'spec.deploymentName',
          `FlinkDeployment ${shown(deploymentName)} is an application cluster; session jobs need a session cluster (one without spec.job)`,
        ),
      );
    }
    if (job) errors.push(...validateJobConfiguration(job, config));
  } else if (target.state === 'missing') {
    warnings.push(
      `spec.deploymentName: FlinkDeployment ${shown(deploymentName)} does not exist yet; the job starts once it does`,
    );
  } else {
    warnings.push(
      `spec.deploymentName: the session cluster could not be checked (${target.reason}); the operator checks it before submitting`,
    );
  }
  return { errors, warnings };
}
