// Validation as at admission (notes §3.1): an invalid spec is reported in `status.error` with one ValidationError
// event, and the last valid spec keeps running — the planners after this one act on that spec instead.
import { FLINK_DEPLOYMENT } from '../../schema/crd.js';
import { errorDocument, withJob } from '../observe.js';
import { formatFieldError, validateResource } from '../../validation/index.js';
import { VALIDATION_ERROR_TYPE, type Plan, type PlanContext } from '../context.js';

/** A plan when there is nothing valid to act on; otherwise undefined, with `ctx.spec` the spec to act on. */
export function applyValidation(ctx: PlanContext): Plan | undefined {
  const { resource, operatorConfig } = ctx.input;
  const verdict = validateResource(FLINK_DEPLOYMENT, resource, { operatorConfig, stored: true });
  if (verdict.errors.length === 0) return undefined;
  const message = verdict.errors.map(formatFieldError).join('; ');
  const document = errorDocument(VALIDATION_ERROR_TYPE, message);
  if (resource.status?.error !== document) ctx.events.push({ type: 'Warning', reason: 'ValidationError', message });
  ctx.status = { ...ctx.status, error: document };
  ctx.keepError = document;
  const last = ctx.lastReconciled();
  if (!last) return ctx.plan({ requeueAfterMs: undefined });
  ctx.spec = ctx.status.reconciliationStatus?.state === 'UPGRADING' ? withJob(last.spec, { state: 'running' }) : last.spec;
  ctx.deployGeneration = ctx.status.observedGeneration ?? ctx.deployGeneration;
  return undefined;
}
