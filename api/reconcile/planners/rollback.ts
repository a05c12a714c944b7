// Rollback (notes §6.5): a spec that did not become stable within the readiness timeout is replaced by the last
// stable one, restored from the snapshot the failed upgrade took.
import { option, OPTIONS } from '../../operator-options.js';
import type { FlatConfig } from '../../flink-config.js';
import { readSpecEnvelope } from '../../spec-envelope.js';
import type { FlinkDeploymentStatus } from '../../types.generated.js';
import { asObject, type Json } from '../../validation/access.js';
import { specUpgradeMode, type Plan, type PlanContext, type ReconcileEvent } from '../context.js';
import { withJob } from '../observe.js';

/**
 * Upstream's shouldRollBack for a spec that is not changing: rollback enabled, the deployed spec never became
 * stable within `kubernetes.operator.deployment.readiness.timeout`, and a stable spec to return to that runs and
 * has the same Flink version. Upstream also needs HA metadata to restore from; here the state to restore is the
 * snapshot the upgrade took (the failed spec never ran), or nothing for a stateless job.
 */
export function shouldRollBack(status: FlinkDeploymentStatus, spec: Json, conf: FlatConfig, now: number): boolean {
  const rs = status.reconciliationStatus ?? {};
  if (!option(conf, OPTIONS.rollbackEnabled)) return false;
  if (rs.state !== 'DEPLOYED' || rs.lastStableSpec === undefined || rs.lastReconciledSpec === rs.lastStableSpec)
    return false;
  const stable = readSpecEnvelope(rs.lastStableSpec)?.spec;
  if (!stable || asObject(stable.job)?.state === 'suspended' || stable.flinkVersion !== spec.flinkVersion) return false;
  if (now - option(conf, OPTIONS.readinessTimeout) <= (rs.reconciliationTimestamp ?? now)) return false;
  return (
    !asObject(stable.job) ||
    specUpgradeMode(stable) === 'stateless' ||
    status.jobStatus?.upgradeSavepointPath !== undefined
  );
}

export function planRollback(ctx: PlanContext): Plan {
  const rs = ctx.status.reconciliationStatus ?? {};
  const stable = readSpecEnvelope(rs.lastStableSpec)!.spec;
  const events: ReconcileEvent[] = [];
  if (rs.state !== 'ROLLING_BACK') {
    ctx.status = { ...ctx.status, reconciliationStatus: { ...rs, state: 'ROLLING_BACK' } };
    events.push({ type: 'Normal', reason: 'Rollback', message: 'Rolling back failed deployment.' });
  }
  const recorded = withJob(stable, { state: 'running' });
  const restorePath =
    asObject(recorded.job) && specUpgradeMode(stable) !== 'stateless'
      ? ctx.status.jobStatus?.upgradeSavepointPath
      : undefined;
  return ctx.deploy(recorded, restorePath, false, events);
}
