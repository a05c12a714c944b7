// FlinkDeployment rules: upstream DefaultValidator §3.2–3.5, plus our stricter required fields (SPEC §3).
import { isBlank, isHighAvailabilityEnabled, type FlatConfig } from '../flink-config.js';
import { isFlinkVersion, support, supportedVersions } from '../flink-versions.js';
import { DEPLOYMENT_MODES } from '../schema/flink-resources.js';
import { option, OPTIONS } from '../operator-options.js';
import { lastReconciledSpec } from '../spec-envelope.js';
import { javaUrlProblem } from '../java-uri.js';
import { asInteger, asObject, asString, type Json } from './access.js';
import { configPath, fieldError, keyPath, shown, type FieldError } from './field-error.js';
import { validateJobSpec } from './job.js';
import { validateComponent } from './resources.js';

/** Flink's cluster-id limit makes 45 characters the longest name. */
export const RESOURCE_NAME = /^[a-z]([-a-z\d]{0,43}[a-z\d])?$/;
export const FORBIDDEN_CONFIG_KEYS = [
  'kubernetes.namespace',
  'kubernetes.cluster-id',
  'high-availability.cluster-id',
] as const;
export const ALLOWED_LOG_CONFIG_KEYS = ['log4j-console.properties', 'logback-console.xml'] as const;

export function validateName(name: unknown, field: string): FieldError[] {
  if (typeof name !== 'string' || name === '') return [fieldError(field, 'is required')];
  if (RESOURCE_NAME.test(name)) return [];
  return [
    fieldError(
      field,
      `${shown(name)} is not a valid Flink cluster name: use at most 45 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit`,
    ),
  ];
}

/** `config` is the effective configuration: operator defaults overlaid with spec.flinkConfiguration. */
export function validateFlinkDeployment(resource: Json, config: FlatConfig): FieldError[] {
  const spec = asObject(resource.spec) ?? {};
  const last = lastReconciledSpec(resource.status)?.spec;
  return [
    ...validateName(asObject(resource.metadata)?.name, 'metadata.name'),
    ...validateRequired(spec),
    ...validateFlinkVersion(spec, last),
    ...validateConfig(config),
    ...validateIngress(asObject(spec.ingress)),
    ...validateLogConfiguration(asObject(spec.logConfiguration)),
    ...(asObject(spec.job) ? validateJobSpec(asObject(spec.job)!, asObject(spec.taskManager), config) : []),
    ...validateComponent(spec, 'jobManager', config),
    ...validateComponent(spec, 'taskManager', config),
    ...(last ? validateDeploymentSpecChange(spec, last) : []),
  ];
}

function validateRequired(spec: Json): FieldError[] {
  const errors: FieldError[] = [];
  if (isBlank(asString(spec.image)))
    errors.push(fieldError('spec.image', 'is required (the Flink image to run, e.g. flink:2.2)'));
  if (isBlank(asString(spec.serviceAccount))) {
    errors.push(
      fieldError(
        'spec.serviceAccount',
        'is required (the service account of the Flink pods; the Helm chart creates "flink")',
      ),
    );
  }
  return errors;
}

function validateFlinkVersion(spec: Json, last: Json | undefined): FieldError[] {
  const version = asString(spec.flinkVersion);
  if (version === undefined) {
    return [
      fieldError(
        'spec.flinkVersion',
        `is required (the Flink version of the image: one of ${supportedVersions().join(', ')})`,
      ),
    ];
  }
  const level = isFlinkVersion(version) ? support(version) : undefined;
  if (level?.level === 'unsupported') {
    return [
      fieldError(
        'spec.flinkVersion',
        `${version} is no longer supported (since ${level.since}); use one of ${supportedVersions().join(', ')}`,
      ),
    ];
  }
  const job = asObject(spec.job);
  const lastJob = asObject(last?.job);
  if (
    job &&
    lastJob &&
    (asString(job.upgradeMode) ?? 'stateless') !== 'stateless' &&
    lastJob.state === 'suspended' &&
    lastJob.upgradeMode === 'last-state' &&
    last?.flinkVersion !== undefined &&
    last.flinkVersion !== version
  ) {
    return [
      fieldError(
        'spec.flinkVersion',
        `cannot change from ${shown(last.flinkVersion)} while the job is suspended with last-state; resume it on ${shown(last.flinkVersion)} first, then upgrade the version`,
      ),
    ];
  }
  return [];
}

/** A deprecated version is admitted with a warning: it still runs, and the user learns before it is refused. */
export function flinkVersionWarnings(resource: Json): string[] {
  const version = asString(asObject(resource.spec)?.flinkVersion);
  const level = isFlinkVersion(version) ? support(version) : undefined;
  if (level?.level !== 'deprecated') return [];
  return [
    `spec.flinkVersion: ${version} is deprecated (since ${level.since}) and a later release will refuse it; move to one of ${supportedVersions().join(', ')}`,
  ];
}

function validateConfig(config: FlatConfig): FieldError[] {
  const errors = FORBIDDEN_CONFIG_KEYS.filter((key) => config[key] !== undefined).map((key) =>
    fieldError(configPath(key), "must not be set: the operator derives it from the resource's name and namespace"),
  );
  if (option(config, OPTIONS.rollbackEnabled) && !isHighAvailabilityEnabled(config)) {
    errors.push(
      fieldError(
        configPath('high-availability.type'),
        `HA must be enabled for rollback support (${OPTIONS.rollbackEnabled.key} is true); set it to "kubernetes"`,
      ),
    );
  }
  if (option(config, OPTIONS.healthCheckEnabled) && !option(config, OPTIONS.jobManagerRecovery)) {
    errors.push(
      fieldError(
        configPath(OPTIONS.jobManagerRecovery.key),
        `must be true when ${OPTIONS.healthCheckEnabled.key} is true: the health check recovers the JobManager deployment`,
      ),
    );
  }
  return errors;
}

function validateIngress(ingress: Json | undefined): FieldError[] {
  if (!ingress) return [];
  const template = asString(ingress.template);
  if (isBlank(template))
    return [
      fieldError(
        'spec.ingress.template',
        'is required when spec.ingress is set, e.g. "{{name}}.{{namespace}}.example.com"',
      ),
    ];
  const url = template!.replace(/\{\{name\}\}/gi, 'name').replace(/\{\{namespace\}\}/gi, 'namespace');
  const problem = javaUrlProblem(url);
  return problem
    ? [
        fieldError(
          'spec.ingress.template',
          `${shown(template)} does not give a valid URL once {{name}} and {{namespace}} are filled in (${problem})`,
        ),
      ]
    : [];
}

function validateLogConfiguration(logConfiguration: Json | undefined): FieldError[] {
  const reason = `is not a log configuration file; allowed: ${ALLOWED_LOG_CONFIG_KEYS.join(', ')}`;
  return Object.keys(logConfiguration ?? {})
    .filter((key) => !(ALLOWED_LOG_CONFIG_KEYS as readonly string[]).includes(key))
    .map((key) => fieldError(keyPath('spec.logConfiguration', key), reason));
}

/** Changes that need a new resource once a spec was deployed (upstream §3.5). */
function validateDeploymentSpecChange(spec: Json, last: Json): FieldError[] {
  const errors: FieldError[] = [];
  const job = asObject(spec.job);
  const lastJob = asObject(last.job);
  if (job && !lastJob)
    errors.push(
      fieldError(
        'spec.job',
        'cannot be added: a session cluster cannot become an application cluster; create a new FlinkDeployment',
      ),
    );
  if (!job && lastJob)
    errors.push(
      fieldError(
        'spec.job',
        'cannot be removed: an application cluster cannot become a session cluster; create a new FlinkDeployment',
      ),
    );
  const mode = asString(spec.mode) ?? 'native';
  const lastMode = asString(last.mode) ?? 'native';
  if (mode !== lastMode) {
    const named = (m: string) => ((DEPLOYMENT_MODES as readonly string[]).includes(m) ? m : shown(m));
    errors.push(
      fieldError(
        'spec.mode',
        `cannot change from ${named(lastMode)} to ${named(mode)} after deployment; create a new FlinkDeployment`,
      ),
    );
  }
  if (job && lastJob) errors.push(...validateSavepointRedeploy(job, lastJob));
  return errors;
}

export function validateSavepointRedeploy(job: Json, lastJob: Json): FieldError[] {
  const nonce = asInteger(job.savepointRedeployNonce);
  if (
    nonce !== undefined &&
    nonce !== asInteger(lastJob.savepointRedeployNonce) &&
    isBlank(asString(job.initialSavepointPath))
  ) {
    return [
      fieldError(
        'spec.job.initialSavepointPath',
        'is required to redeploy from a savepoint (spec.job.savepointRedeployNonce changed)',
      ),
    ];
  }
  return [];
}
