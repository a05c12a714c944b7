// The resource is being deleted: stop the job (with a savepoint when asked), delete the cluster and its HA
// metadata, then let the finalizer go.
import { option, OPTIONS } from '../../operator-options.js';
import { withLifecycle, type Plan, type PlanContext } from '../context.js';
import { reconciledJobState } from '../observe.js';
import { asObject } from '../../validation/access.js';

export function planDeletion(ctx: PlanContext): Plan {
  const status = (ctx.status = { ...ctx.status, lifecycleState: 'DELETING' });
  // A session cluster goes only after the session jobs that name it (upstream's block-on-session-jobs).
  const sessionJobs = ctx.input.observation.sessionJobs ?? [];
  if (!asObject(ctx.spec.job) && sessionJobs.length > 0 && option(ctx.conf, OPTIONS.blockOnSessionJobs)) {
    const names = sessionJobs.map((j) => j.name).sort();
    return ctx.plan({
      events: [
        {
          type: 'Warning',
          reason: 'CleanupFailed',
          message: `The session jobs [${names.join(', ')}] should be deleted first`,
        },
      ],
      requeueAfterMs: ctx.timing.reconcileMs,
    });
  }
  const job = status.jobStatus ?? {};
  const running =
    reconciledJobState(status) === 'running' &&
    status.jobManagerDeploymentStatus === 'READY' &&
    job.state === 'RUNNING' &&
    job.jobId;
  if (running && option(ctx.conf, OPTIONS.savepointOnDeletion)) {
    return ctx.plan({
      events: [
        {
          type: 'Normal',
          reason: 'Cleanup',
          message: 'Cleaning up FlinkDeployment: stopping the job with a savepoint',
        },
      ],
      actions: [
        {
          kind: 'stop-job',
          jobId: job.jobId!,
          mechanism: 'savepoint',
          drain: option(ctx.conf, OPTIONS.drainOnSavepointDeletion),
          restorePoint: false,
          checkpointStatsTtlMs: 0,
          statusAfter: (path) =>
            withLifecycle({
              ...status,
              jobStatus: { ...status.jobStatus, state: 'FINISHED', ...(path ? { upgradeSavepointPath: path } : {}) },
            }),
        },
      ],
      requeueAfterMs: 0,
    });
  }
  const jm = ctx.jobManager;
  if (jm.phase === 'present')
    return ctx.deleteCluster(true, [{ type: 'Normal', reason: 'Cleanup', message: 'Cleaning up FlinkDeployment' }]);
  if (jm.phase === 'deleting') return ctx.plan({ requeueAfterMs: 1000 });
  return ctx.plan({
    actions: [{ kind: 'delete-cluster', deleteHaMetadata: true }, { kind: 'remove-finalizer' }],
    requeueAfterMs: undefined,
  });
}
