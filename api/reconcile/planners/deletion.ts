// The resource is being deleted: stop the job (with a savepoint when asked), delete the cluster and its HA
// metadata, then let the finalizer go.
import { option, OPTIONS } from '../../operator-options.js';
import { withLifecycle, type Plan, type PlanContext } from '../context.js';
import { reconciledJobState } from '../observe.js';

export function planDeletion(ctx: PlanContext): Plan {
  const status = (ctx.status = { ...ctx.status, lifecycleState: 'DELETING' });
  const job = status.jobStatus ?? {};
  const running = reconciledJobState(status) === 'running' && status.jobManagerDeploymentStatus === 'READY' && job.state === 'RUNNING' && job.jobId;
  if (running && option(ctx.conf, OPTIONS.savepointOnDeletion)) {
    return ctx.plan({
      events: [{ type: 'Normal', reason: 'Cleanup', message: 'Cleaning up FlinkDeployment: stopping the job with a savepoint' }],
      actions: [{
        kind: 'stop-job', jobId: job.jobId!, mechanism: 'savepoint', drain: option(ctx.conf, OPTIONS.drainOnSavepointDeletion),
        statusAfter: (path) => withLifecycle({ ...status, jobStatus: { ...status.jobStatus, state: 'FINISHED', ...(path ? { upgradeSavepointPath: path } : {}) } }),
      }],
      requeueAfterMs: 0,
    });
  }
  const jm = ctx.jobManager;
  if (jm.phase === 'present') return ctx.deleteCluster(true, [{ type: 'Normal', reason: 'Cleanup', message: 'Cleaning up FlinkDeployment' }]);
  if (jm.phase === 'deleting') return ctx.plan({ requeueAfterMs: 1000 });
  return ctx.plan({ actions: [{ kind: 'delete-cluster', deleteHaMetadata: true }, { kind: 'remove-finalizer' }], requeueAfterMs: undefined });
}
