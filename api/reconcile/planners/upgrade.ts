// The spec changed (notes §6.3): stop the running job the way its upgrade mode says, then deploy the new spec from
// the state it left, or stay suspended. A session cluster is redeployed on any change, keeping HA metadata.
import type { SpecEnvelope } from '../../spec-envelope.js';
import type { FlinkDeploymentStatus } from '../../types.generated.js';
import { checkpointStatsTtlMs } from '../../flink-config.js';
import { asObject, asString } from '../../validation/access.js';
import { upgradeSavepointRecord } from '../snapshots.js';
import {
  restoreFrom,
  restoresFromHa,
  specUpgradeMode,
  withLifecycle,
  type Plan,
  type PlanContext,
  type ReconcileEvent,
  type StopMechanism,
} from '../context.js';
import { isTerminal, reconciledJobState, withJob } from '../observe.js';
import type { SpecDiff } from '../spec-diff.js';

export function planSpecChange(ctx: PlanContext, last: SpecEnvelope, diff: SpecDiff): Plan {
  const upgrading = ctx.status.reconciliationStatus?.state === 'UPGRADING';
  const changeEvents: ReconcileEvent[] = upgrading
    ? []
    : [
        {
          type: 'Normal',
          reason: 'SpecChanged',
          message: `${diff.type} change(s) detected (${diff.changes
            .filter((c) => c.type !== 'IGNORE')
            .map((c) => c.field)
            .join(', ')}), starting reconciliation.`,
        },
      ];

  if (!asObject(ctx.spec.job)) {
    if (!upgrading) ctx.status = ctx.record(ctx.status, ctx.spec, true, 'suspended');
    // UPGRADING tells the session jobs to stop the way their upgrade modes say; the cluster goes once none runs.
    const running = (ctx.input.observation.sessionJobs ?? [])
      .filter((j) => j.occupying)
      .map((j) => j.name)
      .sort();
    if (running.length > 0 && ctx.jobManager.phase === 'present') {
      const stopping: ReconcileEvent[] = upgrading
        ? []
        : [
            {
              type: 'Normal',
              reason: 'Suspended',
              message: `Stopping the session jobs [${running.join(', ')}] before redeploying`,
            },
          ];
      return ctx.plan({ events: [...changeEvents, ...stopping], requeueAfterMs: ctx.timing.progressCheckMs });
    }
    return ctx.deploy(ctx.spec, undefined, false, changeEvents);
  }
  if (diff.type === 'SAVEPOINT_REDEPLOY' && !upgrading) return planRedeploy(ctx, changeEvents);
  if (reconciledJobState(ctx.status) === 'running' && !upgrading) return planStop(ctx, changeEvents);
  return planAfterStop(ctx, last, changeEvents);
}

/**
 * A new savepointRedeployNonce (upstream AbstractJobReconciler#redeployWithSavepoint): whatever state the job has is
 * discarded — the cluster goes without a savepoint, its HA metadata with it — and the job starts again from
 * `initialSavepointPath`, recorded as a savepoint-mode job restored from there.
 */
function planRedeploy(ctx: PlanContext, changeEvents: ReconcileEvent[]): Plan {
  const path = asString(asObject(ctx.spec.job)?.initialSavepointPath);
  const recorded = withJob(ctx.spec, { upgradeMode: 'savepoint' });
  const jobStatus = { ...ctx.status.jobStatus };
  if (path) jobStatus.upgradeSavepointPath = path;
  else delete jobStatus.upgradeSavepointPath;
  const events: ReconcileEvent[] = [
    ...changeEvents,
    {
      type: 'Normal',
      reason: 'Suspended',
      message: `Redeploying from ${path ?? 'no savepoint'}, discarding the job's state`,
    },
  ];
  if (desiredState(ctx) === 'running') {
    ctx.status = ctx.record({ ...ctx.status, jobStatus }, recorded, true, 'suspended');
    return ctx.deploy(recorded, path, false, events);
  }
  ctx.status = ctx.record({ ...ctx.status, jobStatus }, recorded, false, 'suspended');
  return ctx.jobManager.phase === 'present' ? ctx.deleteCluster(true, events) : ctx.plan({ events });
}

const desiredState = (ctx: PlanContext) => (asObject(ctx.spec.job)?.state === 'suspended' ? 'suspended' : 'running');

/** The job runs with the old spec: stop it the way the upgrade mode says, recording the state to restore from. */
function planStop(ctx: PlanContext, changeEvents: ReconcileEvent[]): Plan {
  const { status, spec } = ctx;
  const rs = status.reconciliationStatus ?? {};
  const mode = specUpgradeMode(spec);
  const job = status.jobStatus ?? {};
  const reachable = status.jobManagerDeploymentStatus === 'READY';
  const neverStable = rs.lastStableSpec !== rs.lastReconciledSpec;
  const stopped =
    (mechanism: StopMechanism | undefined, restoreMode: string) =>
    (path: string | undefined): FlinkDeploymentStatus => {
      const recorded = withJob(spec, { upgradeMode: restoreMode });
      const jobStatus = { ...status.jobStatus };
      if (mechanism === 'savepoint' || mechanism === 'cancel') {
        jobStatus.state = mechanism === 'cancel' ? 'CANCELED' : 'FINISHED';
        jobStatus.updateTime = String(ctx.now);
      }
      if (restoreMode === 'stateless') delete jobStatus.upgradeSavepointPath;
      else if (path) jobStatus.upgradeSavepointPath = path;
      return ctx.record({ ...status, jobStatus }, recorded, desiredState(ctx) === 'running', 'suspended');
    };
  const recordOf = (mechanism: StopMechanism) => {
    const recordSavepoint = mechanism === 'savepoint' ? upgradeSavepointRecord(ctx.conf) : undefined;
    return recordSavepoint ? { recordSavepoint } : {};
  };
  const suspendEvent: ReconcileEvent = {
    type: 'Normal',
    reason: 'Suspended',
    message: 'Suspending existing deployment.',
  };
  const stop = (mechanism: StopMechanism, restoreMode: string): Plan =>
    ctx.plan({
      events: [...changeEvents, suspendEvent],
      actions: [
        {
          kind: 'stop-job',
          jobId: job.jobId!,
          mechanism,
          drain: false,
          restorePoint: true,
          checkpointStatsTtlMs: checkpointStatsTtlMs(ctx.conf),
          ...recordOf(mechanism),
          statusAfter: (path) => withLifecycle(stopped(mechanism, restoreMode)(path)),
        },
      ],
      requeueAfterMs: 0,
    });

  if (mode === 'stateless')
    return ctx.plan({
      status: stopped(undefined, 'stateless')(undefined),
      events: [...changeEvents, suspendEvent],
      requeueAfterMs: 0,
    });
  // Kubernetes HA keeps the job's checkpoints for the next cluster: the job is not stopped, only its cluster goes.
  if (restoresFromHa(spec, ctx.conf) && job.jobId && !isTerminal(job.state)) {
    return ctx.plan({
      status: stopped(undefined, 'last-state')(job.upgradeSavepointPath),
      events: [...changeEvents, suspendEvent],
      requeueAfterMs: 0,
    });
  }
  if (reachable && job.jobId && isTerminal(job.state)) return stop('latest-checkpoint', 'savepoint');
  if (reachable && job.jobId && job.state === 'RUNNING')
    return stop(mode === 'savepoint' ? 'savepoint' : 'cancel', mode);
  // The job never ran with the spec being replaced: the state it was started from is still the state to keep.
  if (neverStable)
    return ctx.plan({
      status: stopped(undefined, mode)(job.upgradeSavepointPath),
      events: changeEvents,
      requeueAfterMs: 0,
    });
  if (reachable && job.jobId && job.state !== undefined && job.state !== 'RECONCILING') return stop('cancel', mode);
  return ctx.plan({ events: changeEvents, requeueAfterMs: ctx.timing.progressCheckMs });
}

/** The old job is stopped: deploy the new spec from its state, or stay suspended with the cluster gone. */
function planAfterStop(ctx: PlanContext, last: SpecEnvelope, changeEvents: ReconcileEvent[]): Plan {
  if (desiredState(ctx) === 'running') {
    const { recorded, path } = restoreFrom(ctx.spec, last.spec, ctx.status.jobStatus?.upgradeSavepointPath);
    return ctx.deploy(recorded, path, false, changeEvents, restoresFromHa(recorded, ctx.conf));
  }
  ctx.status = ctx.record(ctx.status, ctx.spec, false, 'suspended');
  return ctx.jobManager.phase === 'present'
    ? ctx.deleteCluster(specUpgradeMode(ctx.spec) !== 'last-state', changeEvents)
    : ctx.plan({ events: changeEvents });
}
