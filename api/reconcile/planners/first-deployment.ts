// The first deployment (notes §5.4): nothing when created suspended; else recorded as stateless, or as savepoint
// when it starts from `initialSavepointPath`.
import { asObject } from '../../validation/access.js';
import type { Plan, PlanContext } from '../context.js';
import { withJob } from '../observe.js';

export function planFirstDeployment(ctx: PlanContext): Plan {
  const job = asObject(ctx.spec.job);
  if (job?.state === 'suspended') return ctx.plan({ requeueAfterMs: undefined });
  const initial =
    typeof job?.initialSavepointPath === 'string' && job.initialSavepointPath !== ''
      ? job.initialSavepointPath
      : undefined;
  return ctx.deploy(withJob(ctx.spec, { upgradeMode: initial ? 'savepoint' : 'stateless' }), initial, true);
}
