// The next step for one FlinkDeployment, decided from its stored state and what was just observed — upstream's
// reconcile loop (notes §6) as pure functions: this file picks the situation, one planner in planners/ handles
// each. The operator writes the returned status (when it changed), emits the events, performs the actions in
// order and looks again after `requeueAfterMs`.
//
// Every step is safe to repeat and to interrupt: what a later step needs (the new job id, the snapshot to restore
// from, the generation being deployed) is in the status before the step that depends on it runs, so an operator
// killed anywhere picks up where it stopped.
import { FINALIZER, PlanContext, type Plan, type PlanInput } from './context.js';
import { applyAutoscaler, clearSettledRescale, planInPlaceScale, rescalesInPlace } from './planners/autoscale.js';
import { planDeletion } from './planners/deletion.js';
import { planFirstDeployment } from './planners/first-deployment.js';
import { planRollback, shouldRollBack } from './planners/rollback.js';
import { planSteady } from './planners/steady.js';
import { planSpecChange } from './planners/upgrade.js';
import { applyValidation } from './planners/validation.js';
import { diffSpecs } from './spec-diff.js';

export * from './context.js';
export { shouldRollBack } from './planners/rollback.js';

/**
 * What of a FlinkDeployment calls for a reconcile when it changes — generation-aware, as controller-runtime's
 * GenerationChangedPredicate and JOSDK are: the spec (its generation), deletion, finalizers and labels, never the
 * status alone (most status changes are the operator's own writes; reacting to them would skip its backoff).
 */
export function reconcileTrigger(
  metadata:
    | { generation?: number; deletionTimestamp?: string; finalizers?: string[]; labels?: Record<string, string> }
    | undefined,
): string {
  const m = metadata ?? {};
  return JSON.stringify([m.generation, m.deletionTimestamp ?? null, m.finalizers ?? [], m.labels ?? {}]);
}

export function planDeployment(input: PlanInput): Plan {
  const { metadata } = input.resource;
  if (!metadata.deletionTimestamp && !(metadata.finalizers ?? []).includes(FINALIZER)) {
    return { status: input.resource.status ?? {}, events: [], actions: [{ kind: 'add-finalizer' }], requeueAfterMs: 0 };
  }
  const ctx = new PlanContext(input);
  if (metadata.deletionTimestamp) return planDeletion(ctx);
  const invalid = applyValidation(ctx);
  if (invalid) return invalid;

  const last = ctx.lastReconciled();
  applyAutoscaler(ctx, last);
  if (!last) return planFirstDeployment(ctx);

  const diff = diffSpecs(last.spec, ctx.spec);
  if (diff.type === 'IGNORE') clearSettledRescale(ctx);
  let rs = ctx.status.reconciliationStatus ?? {};
  // A new spec from the user ends a rollback in progress: it is upgraded to like any other.
  if (rs.state === 'ROLLING_BACK' && diff.type !== 'IGNORE') {
    rs = { ...rs, state: 'UPGRADING' };
    ctx.status = { ...ctx.status, reconciliationStatus: rs };
  }
  if (
    rs.state === 'ROLLING_BACK' ||
    (diff.type === 'IGNORE' && shouldRollBack(ctx.status, ctx.spec, ctx.conf, ctx.now))
  )
    return planRollback(ctx);
  if (diff.type === 'IGNORE' && rs.state !== 'UPGRADING') return planSteady(ctx, last, diff.changes.length > 0);
  if (diff.type === 'SCALE' && rs.state === 'DEPLOYED' && rescalesInPlace(ctx))
    return planInPlaceScale(ctx, last, diff);
  return planSpecChange(ctx, last, diff);
}
