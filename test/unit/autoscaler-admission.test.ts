// Admission of the autoscaler's keys, as a user meets it: a value it could not read refused at its field, keys that
// contradict each other refused while it is on, a misspelt key named with the one meant, a key it does not act on
// yet and a rescale that would restart the job both warned about.
import { expect } from 'chai';
import { FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import { validateResource } from '../../api/validation/index.js';
import { upstreamExamples } from '../support/examples.js';
import { validDeployment } from '../support/invalid-cases.js';

function verdict(conf: Record<string, string>, job = true) {
  const d = validDeployment() as { spec: Record<string, unknown> };
  d.spec.flinkConfiguration = { 'taskmanager.numberOfTaskSlots': '2', 'jobmanager.scheduler': 'adaptive', ...conf };
  if (!job) delete d.spec.job;
  return validateResource(FLINK_DEPLOYMENT, d, { operatorConfig: {} });
}
const on = { 'job.autoscaler.enabled': 'true' };

describe('admission: the autoscaler', () => {
  const rows: [string, Record<string, string>, string][] = [
    [
      'a value it cannot read',
      { ...on, 'job.autoscaler.utilization.target': '70%' },
      'spec.flinkConfiguration["job.autoscaler.utilization.target"]: "70%" is not a number from 0 to 1: the autoscaler reads job.autoscaler.utilization.target as one',
    ],
    [
      'a duration it cannot read, under its older name',
      { 'kubernetes.operator.job.autoscaler.metrics.window': 'soon' },
      'spec.flinkConfiguration["kubernetes.operator.job.autoscaler.metrics.window"]: "soon" is not a duration (e.g. 30 s, 5 min): the autoscaler reads job.autoscaler.metrics.window as one',
    ],
    [
      'a band that does not hold its target',
      { ...on, 'job.autoscaler.utilization.min': '0.8' },
      'spec.flinkConfiguration["job.autoscaler.utilization.min"]: 0.8 is above utilization.target (0.7)',
    ],
    [
      'a window no two samples fill',
      { ...on, 'job.autoscaler.metrics.window': '30 s' },
      'spec.flinkConfiguration["job.autoscaler.metrics.window"]: 30 s is shorter than the reconcile interval (60 s): metrics are sampled once per reconcile, and a window needs two samples',
    ],
    [
      'limits that cross',
      { ...on, 'job.autoscaler.vertex.min-parallelism': '8', 'job.autoscaler.vertex.max-parallelism': '4' },
      'spec.flinkConfiguration["job.autoscaler.vertex.min-parallelism"]: 8 is above vertex.max-parallelism (4)',
    ],
    [
      'an alignment mode it does not know',
      { ...on, 'job.autoscaler.scaling.key-group.partitions.adjust.mode': 'SOMETIMES' },
      'spec.flinkConfiguration["job.autoscaler.scaling.key-group.partitions.adjust.mode"]: "SOMETIMES" is not one of EVENLY_SPREAD, MAXIMIZE_UTILISATION: the autoscaler reads job.autoscaler.scaling.key-group.partitions.adjust.mode as one',
    ],
    [
      'an excluded period that does not read',
      { ...on, 'job.autoscaler.excluded.periods': '09:00-17:00' },
      'spec.flinkConfiguration["job.autoscaler.excluded.periods"]: "09:00-17:00" is not `;`-separated HH:mm:ss-HH:mm:ss windows or cron expressions: the autoscaler reads job.autoscaler.excluded.periods as one',
    ],
  ];
  for (const [what, conf, message] of rows)
    it(`refuses ${what}`, () =>
      expect(verdict(conf).errors.map((e) => `${e.field}: ${e.message}`)).to.deep.equal([message]));

  it('checks the keys together only while it is on', () =>
    expect(verdict({ 'job.autoscaler.metrics.window': '30 s' }).errors).to.deep.equal([]));

  it('warns about a misspelt key, a key it does not act on yet, an older name, and rescales that restart the job', () => {
    const warnings = (conf: Record<string, string>, job = true) => verdict(conf, job).warnings;
    expect(warnings({ ...on, 'job.autoscaler.metric.window': '5 min' })).to.deep.equal([
      'spec.flinkConfiguration["job.autoscaler.metric.window"]: not an autoscaler option; did you mean job.autoscaler.metrics.window?',
    ]);
    expect(warnings({ ...on, 'job.autoscaler.memory.tuning.enabled': 'true' })).to.deep.equal([
      'spec.flinkConfiguration["job.autoscaler.memory.tuning.enabled"]: read, but this operator does not act on it yet (README, The autoscaler)',
    ]);
    expect(warnings({ ...on, 'job.autoscaler.target.utilization': '0.6' })).to.deep.equal([
      'spec.flinkConfiguration["job.autoscaler.target.utilization"]: deprecated; use job.autoscaler.utilization.target',
    ]);
    expect(warnings({ ...on, 'jobmanager.scheduler': 'default' })).to.deep.equal([
      'spec.flinkConfiguration["jobmanager.scheduler"]: without the adaptive scheduler each rescale upgrades the job (a restart in its upgradeMode); set it to adaptive to rescale in place',
    ]);
    expect(warnings(on, false)).to.deep.equal([
      'spec.flinkConfiguration["job.autoscaler.enabled"]: a session cluster has no job to autoscale; its FlinkSessionJobs are not autoscaled by this operator',
    ]);
  });

  it("admits upstream's autoscaling examples; the dynamic one is told its rescales restart the job", () => {
    const check = (file: string) =>
      validateResource(FLINK_DEPLOYMENT, upstreamExamples().find((e) => e.file === file)!.object, {
        operatorConfig: {},
      });
    const ours = (file: string) => {
      const v = check(file);
      expect(v.errors).to.deep.equal([]);
      return v.warnings.filter((w) => /job\.autoscaler|jobmanager\.scheduler/.test(w));
    };
    expect(ours('autoscaling_autoscaling.yaml')).to.deep.equal([]);
    expect(ours('autoscaling_autoscaling-dynamic.yaml')).to.deep.equal([
      'spec.flinkConfiguration["jobmanager.scheduler"]: without the adaptive scheduler each rescale upgrades the job (a restart in its upgradeMode); set it to adaptive to rescale in place',
    ]);
  });
});
