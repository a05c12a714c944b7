// One entry point for every rule: the webhook calls it on admission, the reconciler on each spec change.
import { defaultConfigFor, effectiveConfig, type FlatConfig } from '../flink-config.js';
import type { JsonValue } from '../kubernetes-types.js';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB, type KindInfo } from '../schema/crd.js';
import { asObject, asString, type Json } from './access.js';
import { shown } from './field-error.js';
import { flinkVersionWarnings, validateFlinkDeployment } from './deployment.js';
import { checkAutoscaler } from './autoscaler.js';
import { checkFlinkOptions } from './flink-options.js';
import type { HostResolution } from './jar-uri.js';
import { validateStructure } from './schema.js';
import { sessionJobConfig, validateFlinkSessionJob, type SessionTarget, type Verdict } from './session-job.js';
import { validateFlinkStateSnapshot, type JobTarget } from './state-snapshot.js';

export interface ValidationContext {
  /** The operator's flat configuration (`--config`), before per-resource overrides. */
  operatorConfig: FlatConfig;
  /** Session jobs: what is known of the target FlinkDeployment. */
  sessionTarget?: SessionTarget;
  /** Session jobs: what resolving the jar's host gave, when it needed resolving. */
  jarHost?: HostResolution;
  /** FlinkStateSnapshots: what is known of the job resource the snapshot names. */
  jobTarget?: JobTarget;
  /** FlinkDeployments: whether the ServiceAccount the spec names exists (admission only). */
  serviceAccount?: ServiceAccountFact;
  /**
   * The object was read back from the API server, which enforced this same schema (the CRD's) when it was
   * written: the structural pass cannot find anything, and skipping it spares the reconciler the schema compile.
   */
  stored?: boolean;
}

/** The most problems one answer lists; the rest are counted ("and N more"), so an answer never outgrows its request. */
export const MAX_LISTED_ERRORS = 100;

/**
 * Every problem at once (up to MAX_LISTED_ERRORS, then a count), structural and semantic. Semantic rules skip
 * fields whose type is already wrong. Linear in the size of the resource, whatever it holds.
 */
export function validateResource(kind: KindInfo, resource: unknown, ctx: ValidationContext): Verdict {
  const structural = ctx.stored ? [] : validateStructure(kind, resource);
  const obj = asObject(resource) ?? {};
  const semantic = semanticVerdict(kind, obj, ctx);
  const wrongType = new Set(structural.map((s) => s.field));
  const errors = [...structural, ...semantic.errors.filter((e) => !ancestorsOf(e.field).some((f) => wrongType.has(f)))];
  const omitted = Math.max(0, errors.length - MAX_LISTED_ERRORS);
  return {
    errors: errors.slice(0, MAX_LISTED_ERRORS),
    warnings: semantic.warnings,
    ...(omitted > 0 ? { omitted } : {}),
  };
}

function semanticVerdict(kind: KindInfo, obj: Json, ctx: ValidationContext): Verdict {
  if (kind === FLINK_DEPLOYMENT) {
    const options = checkFlinkOptions(asObject(obj.spec));
    const conf = deploymentConfig(ctx.operatorConfig, obj);
    const autoscaler = checkAutoscaler(asObject(obj.spec), conf);
    return {
      errors: [...validateFlinkDeployment(obj, conf), ...options.errors, ...autoscaler.errors],
      warnings: [
        ...flinkVersionWarnings(obj),
        ...options.warnings,
        ...autoscaler.warnings,
        ...serviceAccountWarnings(ctx.serviceAccount),
      ],
    };
  }
  if (kind === FLINK_SESSION_JOB) {
    const target = sessionTarget(ctx);
    const verdict = validateFlinkSessionJob(
      obj,
      sessionJobConfig(ctx.operatorConfig, obj, target),
      target,
      ctx.jarHost,
      ctx.operatorConfig,
    );
    // A session job's configuration is read by its session's Flink.
    const options = checkFlinkOptions({
      flinkVersion: target.state === 'found' ? asObject(target.deployment.spec)?.flinkVersion : undefined,
      flinkConfiguration: asObject(obj.spec)?.flinkConfiguration,
    });
    return { errors: [...verdict.errors, ...options.errors], warnings: [...verdict.warnings, ...options.warnings] };
  }
  return validateFlinkStateSnapshot(obj, ctx.jobTarget ?? { state: 'unknown', reason: 'no Kubernetes API access' });
}

/** A field path and every path above it: `a.b["c.d"][0]` → itself, `a.b["c.d"]`, `a.b`, `a`. */
function ancestorsOf(field: string): string[] {
  const out = [field];
  // Cut before each `.` or `[` that is not inside a quoted key.
  let quoted = false;
  for (let i = field.length - 1; i > 0; i--) {
    const c = field[i];
    if (c === '"' && field[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && (c === '.' || c === '[')) out.push(field.slice(0, i));
  }
  return out;
}

/** The effective configuration of a FlinkDeployment: operator defaults for its namespace and version, then its own. */
export function deploymentConfig(operatorConfig: FlatConfig, deployment: Json): Record<string, string> {
  const spec = asObject(deployment.spec);
  const defaults = defaultConfigFor(
    operatorConfig,
    asString(asObject(deployment.metadata)?.namespace),
    asString(spec?.flinkVersion),
  );
  const own = asObject(spec?.flinkConfiguration);
  return own ? effectiveConfig(defaults, own as JsonValue) : { ...defaults };
}

/** What the webhook found of a ServiceAccount a FlinkDeployment names. */
export interface ServiceAccountFact {
  name: string;
  namespace: string;
  state: 'found' | 'missing' | 'unknown';
}

/** A missing account is a warning, not an error: it may be created next (`kubectl apply -f dir/` orders files by name). */
function serviceAccountWarnings(fact: ServiceAccountFact | undefined): string[] {
  if (fact?.state !== 'missing') return [];
  return [
    `spec.serviceAccount: ServiceAccount ${shown(fact.name)} does not exist in namespace ${shown(fact.namespace)}; the JobManager pod cannot be created until it does`,
  ];
}

const sessionTarget = (ctx: ValidationContext): SessionTarget =>
  ctx.sessionTarget ?? { state: 'unknown', reason: 'no Kubernetes API access' };

export type { FieldError } from './field-error.js';
export { formatFieldError } from './field-error.js';
export type { HostResolution } from './jar-uri.js';
export { jarHostToResolve } from './jar-uri.js';
export type { SessionTarget, Verdict } from './session-job.js';
export type { JobTarget } from './state-snapshot.js';
export { sessionJobConfig } from './session-job.js';
