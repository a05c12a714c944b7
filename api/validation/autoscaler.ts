// The autoscaler's keys taken together (upstream AutoscalerValidator and DefaultValidator#validateMetricsWindow,
// FLINK-39826), checked only when it is on: a band that is no band, a window no two samples fill, limits that cross.
// And what a user of it should know: without the adaptive scheduler each rescale restarts the job.
import { AUTOSCALER_OPTIONS, autoscalerConfig } from '../autoscaler/options.js';
import type { FlatConfig } from '../flink-config.js';
import { option, OPTIONS } from '../operator-options.js';
import { asObject, type Json } from './access.js';
import { configPath, fieldError, type FieldError } from './field-error.js';
import type { OptionsVerdict } from './flink-options.js';

const seconds = (ms: number) => `${ms / 1000} s`;

export function checkAutoscaler(spec: Json | undefined, conf: FlatConfig): OptionsVerdict {
  const c = autoscalerConfig(conf);
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  if (!c.enabled) return { errors, warnings };
  const at = (o: { key: string }) => configPath(o.key);
  const { utilizationMin: min, utilizationMax: max, targetUtilization: target } = c;
  if (min !== undefined && min > target)
    errors.push(fieldError(at(AUTOSCALER_OPTIONS.utilizationMin), `${min} is above utilization.target (${target})`));
  if (max !== undefined && max < target)
    errors.push(fieldError(at(AUTOSCALER_OPTIONS.utilizationMax), `${max} is below utilization.target (${target})`));
  const reconcile = option(conf, OPTIONS.reconcileInterval);
  if (c.metricsWindow < reconcile)
    errors.push(
      fieldError(
        at(AUTOSCALER_OPTIONS.metricsWindow),
        `${seconds(c.metricsWindow)} is shorter than the reconcile interval (${seconds(reconcile)}): metrics are sampled once per reconcile, and a window needs two samples`,
      ),
    );
  if (c.vertexMinParallelism > c.vertexMaxParallelism)
    errors.push(
      fieldError(
        at(AUTOSCALER_OPTIONS.vertexMinParallelism),
        `${c.vertexMinParallelism} is above vertex.max-parallelism (${c.vertexMaxParallelism})`,
      ),
    );
  if (!asObject(spec?.job))
    warnings.push(
      `${at(AUTOSCALER_OPTIONS.enabled)}: a session cluster has no job to autoscale; its FlinkSessionJobs are not autoscaled by this operator`,
    );
  else if ((conf['jobmanager.scheduler'] ?? '').trim().toLowerCase() !== 'adaptive')
    warnings.push(
      `${configPath('jobmanager.scheduler')}: without the adaptive scheduler each rescale upgrades the job (a restart in its upgradeMode); set it to adaptive to rescale in place`,
    );
  return { errors, warnings };
}
