// Diff classification, table-driven from upstream's @SpecDiff rules (notes §1.2); expected values written by hand.
import { expect } from 'chai';
import { diffSpecs, type DiffType } from '../../api/reconcile/spec-diff.js';

const base = {
  image: 'flink:2.2',
  flinkVersion: 'v2_2',
  mode: 'native',
  flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '2' },
  jobManager: { replicas: 1, resource: { memory: '2048m', cpu: 1 } },
  taskManager: { resource: { memory: '2048m', cpu: 1 } },
  job: { jarURI: 'local:///a.jar', parallelism: 2, state: 'running', upgradeMode: 'savepoint', args: [] },
};

type Change = (spec: Record<string, any>) => void;
const cases: [string, Change, DiffType, string[]][] = [
  ['nothing', () => undefined, 'IGNORE', []],
  ['the image', (s) => (s.image = 'flink:2.1'), 'UPGRADE', ['spec.image']],
  ['job.parallelism in native mode', (s) => (s.job.parallelism = 4), 'UPGRADE', ['spec.job.parallelism']],
  [
    'the deployment mode (with a standalone-only SCALE field)',
    (s) => ((s.mode = 'standalone'), (s.job.parallelism = 4)),
    'UPGRADE',
    ['spec.mode', 'spec.job.parallelism'],
  ],
  ['job.upgradeMode', (s) => (s.job.upgradeMode = 'last-state'), 'IGNORE', ['spec.job.upgradeMode']],
  ['job.savepointTriggerNonce', (s) => (s.job.savepointTriggerNonce = 3), 'IGNORE', ['spec.job.savepointTriggerNonce']],
  [
    'job.initialSavepointPath',
    (s) => (s.job.initialSavepointPath = 'file:///sp'),
    'IGNORE',
    ['spec.job.initialSavepointPath'],
  ],
  [
    'job.allowNonRestoredState',
    (s) => (s.job.allowNonRestoredState = true),
    'IGNORE',
    ['spec.job.allowNonRestoredState'],
  ],
  ['job.state (suspend)', (s) => (s.job.state = 'suspended'), 'UPGRADE', ['spec.job.state']],
  [
    'job.savepointRedeployNonce set',
    (s) => (s.job.savepointRedeployNonce = 1),
    'SAVEPOINT_REDEPLOY',
    ['spec.job.savepointRedeployNonce'],
  ],
  ['restartNonce set', (s) => (s.restartNonce = 7), 'UPGRADE', ['spec.restartNonce']],
  [
    'parallelism.default in flinkConfiguration',
    (s) => (s.flinkConfiguration['parallelism.default'] = '4'),
    'IGNORE',
    ['spec.flinkConfiguration["parallelism.default"]'],
  ],
  [
    'an operator key',
    (s) => (s.flinkConfiguration['kubernetes.operator.reconcile.interval'] = '5 s'),
    'IGNORE',
    ['spec.flinkConfiguration["kubernetes.operator.reconcile.interval"]'],
  ],
  [
    'an autoscaler key',
    (s) => (s.flinkConfiguration['job.autoscaler.enabled'] = 'true'),
    'IGNORE',
    ['spec.flinkConfiguration["job.autoscaler.enabled"]'],
  ],
  [
    'vertex parallelism overrides (native)',
    (s) => (s.flinkConfiguration['pipeline.jobvertex-parallelism-overrides'] = 'a:2'),
    'SCALE',
    ['spec.flinkConfiguration["pipeline.jobvertex-parallelism-overrides"]'],
  ],
  [
    'any other Flink key',
    (s) => (s.flinkConfiguration['taskmanager.numberOfTaskSlots'] = '4'),
    'UPGRADE',
    ['spec.flinkConfiguration["taskmanager.numberOfTaskSlots"]'],
  ],
  [
    'a nested Flink key, flattened',
    (s) => (s.flinkConfiguration.state = { backend: { type: 'rocksdb' } }),
    'UPGRADE',
    ['spec.flinkConfiguration["state.backend.type"]'],
  ],
  ['the JobManager memory', (s) => (s.jobManager.resource.memory = '4g'), 'UPGRADE', ['spec.jobManager']],
  ['adding a job (session → application)', (s) => delete s.job, 'UPGRADE', ['spec.job']],
  [
    'the largest of several wins',
    (s) => ((s.job.upgradeMode = 'stateless'), (s.job.savepointRedeployNonce = 2), (s.image = 'x')),
    'SAVEPOINT_REDEPLOY',
    ['spec.image', 'spec.job.upgradeMode', 'spec.job.savepointRedeployNonce'],
  ],
];

describe('spec diff classification (upstream @SpecDiff)', () => {
  for (const [what, change, type, fields] of cases) {
    it(`${what} → ${type}`, () => {
      const after = structuredClone(base) as Record<string, any>;
      change(after);
      const diff = diffSpecs(structuredClone(base), after);
      expect(diff.type).to.equal(type);
      expect(diff.changes.map((c) => c.field)).to.have.members(fields);
    });
  }

  it('job.parallelism is SCALE in standalone mode', () => {
    const standalone = { ...structuredClone(base), mode: 'standalone' };
    const after = structuredClone(standalone);
    after.job.parallelism = 4;
    expect(diffSpecs(standalone, after)).to.deep.equal({
      type: 'SCALE',
      changes: [{ field: 'spec.job.parallelism', type: 'SCALE' }],
    });
  });

  it('taskManager.replicas is SCALE in standalone mode and UPGRADE in native mode', () => {
    const standalone = { ...structuredClone(base), mode: 'standalone', taskManager: { replicas: 1 } };
    expect(diffSpecs(standalone, { ...standalone, taskManager: { replicas: 3 } }).type).to.equal('SCALE');
    const native = { ...structuredClone(base), taskManager: { replicas: 1 } };
    expect(diffSpecs(native, { ...native, taskManager: { replicas: 3 } }).type).to.equal('UPGRADE');
  });

  it('ignores restartNonce and savepointRedeployNonce going back to null', () => {
    const before = { ...structuredClone(base), restartNonce: 3, job: { ...base.job, savepointRedeployNonce: 2 } };
    const after = structuredClone(base);
    expect(diffSpecs(before, after).type).to.equal('IGNORE');
  });

  it('treats a missing args list and an empty one as the same job', () => {
    const after = structuredClone(base) as Record<string, any>;
    delete after.job.args;
    expect(diffSpecs(structuredClone(base), after).changes).to.deep.equal([]);
  });
});
