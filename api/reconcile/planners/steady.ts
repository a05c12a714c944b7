// Nothing to change in the spec: record ignored fields (upgrade mode, nonces), clean up what a suspended job left,
// and recover a JobManager Deployment lost under a running job.
import { option, OPTIONS } from '../../operator-options.js';
import type { SpecEnvelope } from '../../spec-envelope.js';
import type { FlinkDeploymentStatus } from '../../types.generated.js';
import { asObject, type Json } from '../../validation/access.js';
import {
  MANUAL_RESTORE_MESSAGE,
  specUpgradeMode,
  UPGRADE_FAILURE_TYPE,
  type Plan,
  type PlanContext,
} from '../context.js';
import { errorDocument, isTerminal, reconciledJobState, recordedSpec, withJob } from '../observe.js';
import { planSnapshots, recordNonces, withReconciledNonces } from '../snapshots.js';

export function planSteady(ctx: PlanContext, last: SpecEnvelope, ignoredChanges: boolean): Plan {
  if (ignoredChanges) ctx.status = recordIgnoredChanges(ctx.status, ctx.spec, last, ctx.deployGeneration);
  const jm = ctx.jobManager;
  if (reconciledJobState(ctx.status) === 'suspended') {
    // Suspended, only last-state keeps HA metadata for the job to come back from (upstream SuspendMode#deleteHaMeta).
    return jm.phase === 'present' ? ctx.deleteCluster(specUpgradeMode(last.spec) !== 'last-state') : ctx.plan();
  }
  if (
    jm.phase === 'absent' &&
    ctx.status.reconciliationStatus?.state === 'DEPLOYED' &&
    !isTerminal(ctx.status.jobStatus?.state)
  ) {
    const stateless = !asObject(ctx.spec.job) || specUpgradeMode(last.spec) === 'stateless';
    // A stateful job comes back only from HA metadata (upstream's RecoverDeployment): the same job, its checkpoints.
    const fromHa = !stateless && ctx.input.observation.haMetadata === true;
    if ((stateless || fromHa) && option(ctx.conf, OPTIONS.jobManagerRecovery)) {
      const recover = { type: 'Warning' as const, reason: 'RecoverDeployment', message: 'Recovering lost deployment' };
      return ctx.deploy(
        withJob(last.spec, { state: 'running' }),
        fromHa ? ctx.status.jobStatus?.upgradeSavepointPath : undefined,
        false,
        [recover],
        fromHa,
      );
    }
    if (!stateless) ctx.status = { ...ctx.status, error: errorDocument(UPGRADE_FAILURE_TYPE, MANUAL_RESTORE_MESSAGE) };
  }
  if (!asObject(ctx.spec.job) || ctx.status.reconciliationStatus?.state !== 'DEPLOYED' || jm.phase !== 'present')
    return ctx.plan();
  const rest = ctx.input.observation.rest;
  const snapshots = planSnapshots({
    job: ctx.status.jobStatus ?? {},
    spec: ctx.spec,
    reconciled: last.spec,
    conf: ctx.conf,
    now: ctx.now,
    progress: ctx.input.observation.snapshots ?? [],
    tasksRunning:
      rest?.reachable === true && rest.jobs.some((j) => j.id === ctx.status.jobStatus?.jobId && j.allTasksRunning),
    newTriggerId: ctx.input.newJobId,
    ...(ctx.input.observation.ownedSnapshots ? { owned: ctx.input.observation.ownedSnapshots } : {}),
  });
  ctx.status = recordNonces({ ...ctx.status, jobStatus: snapshots.job }, snapshots.nonces);
  return ctx.plan({ events: snapshots.events, actions: snapshots.actions });
}

/** IGNORE-only changes (upgrade mode, nonces) are recorded without touching the cluster; stable stays stable. */
function recordIgnoredChanges(
  current: FlinkDeploymentStatus,
  spec: Json,
  last: SpecEnvelope,
  generation: number,
): FlinkDeploymentStatus {
  const status = structuredClone(current);
  const rs = (status.reconciliationStatus ??= {});
  const wasStable = rs.lastStableSpec === rs.lastReconciledSpec;
  const state = asObject(last.spec.job)?.state;
  rs.lastReconciledSpec = recordedSpec(
    { ...last, spec: withReconciledNonces(spec, last.spec) },
    state === 'suspended' ? 'suspended' : 'running',
  );
  if (wasStable) rs.lastStableSpec = rs.lastReconciledSpec;
  status.observedGeneration = generation;
  return status;
}
