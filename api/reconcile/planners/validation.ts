// Validation as at admission (notes §3.1): an invalid spec is reported in `status.error` with one ValidationError
// event, and the last valid spec keeps running — the planners after this one act on that spec instead.
import { FLINK_DEPLOYMENT, type KindInfo } from '../../schema/crd.js';
import { errorDocument, withJob } from '../observe.js';
import { formatFieldError, validateResource, type ValidationContext } from '../../validation/index.js';
import { VALIDATION_ERROR_TYPE, type Plan, type PlanContext, type ReconcileEvent } from '../context.js';

/**
 * A stored resource checked as at admission: undefined when valid, else its `status.error` document and, unless that
 * error is already shown, the one ValidationError event to record.
 */
export function invalidity(
  kind: KindInfo,
  resource: { status?: { error?: string } },
  context: ValidationContext,
): { document: string; event?: ReconcileEvent } | undefined {
  const verdict = validateResource(kind, resource, { ...context, stored: true });
  if (verdict.errors.length === 0) return undefined;
  const message = verdict.errors.map(formatFieldError).join('; ');
  const document = errorDocument(VALIDATION_ERROR_TYPE, message);
  return {
    document,
    ...(resource.status?.error !== document ? { event: { type: 'Warning', reason: 'ValidationError', message } } : {}),
  };
}

/** A plan when there is nothing valid to act on; otherwise undefined, with `ctx.spec` the spec to act on. */
export function applyValidation(ctx: PlanContext): Plan | undefined {
  const { resource, operatorConfig } = ctx.input;
  const invalid = invalidity(FLINK_DEPLOYMENT, resource, { operatorConfig });
  if (!invalid) return undefined;
  const { document, event } = invalid;
  if (event) ctx.events.push(event);
  ctx.status = { ...ctx.status, error: document };
  ctx.keepError = document;
  const last = ctx.lastReconciled();
  if (!last) return ctx.plan({ requeueAfterMs: undefined });
  ctx.spec =
    ctx.status.reconciliationStatus?.state === 'UPGRADING' ? withJob(last.spec, { state: 'running' }) : last.spec;
  ctx.deployGeneration = ctx.status.observedGeneration ?? ctx.deployGeneration;
  return undefined;
}
