import { expect } from 'chai';
import { validateResource, type ValidationContext } from '../../api/validation/index.js';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB } from '../../api/schema/crd.js';
import { invalidCases, sessionCluster, validDeployment, validSessionJob } from '../support/invalid-cases.js';

const kindOf = (kind: string) => (kind === 'FlinkDeployment' ? FLINK_DEPLOYMENT : FLINK_SESSION_JOB);
const publicHost = { host: 'artifacts.example.com', addresses: ['151.101.1.69'] };
const ctx = (extra: Partial<ValidationContext> = {}): ValidationContext => ({
  operatorConfig: {},
  jarHost: publicHost,
  ...extra,
});

describe('validation rules (upstream §3, SPEC §3)', () => {
  it('the valid baselines pass', () => {
    expect(validateResource(FLINK_DEPLOYMENT, validDeployment(), ctx()).errors).to.deep.equal([]);
    expect(validateResource(FLINK_DEPLOYMENT, sessionCluster(), ctx()).errors).to.deep.equal([]);
    const job = validateResource(
      FLINK_SESSION_JOB,
      validSessionJob(),
      ctx({ sessionTarget: { state: 'found', deployment: sessionCluster() } }),
    );
    expect(job).to.deep.equal({ errors: [], warnings: [] });
  });

  for (const c of invalidCases) {
    it(`${c.kind}: ${c.title} → ${c.field}`, () => {
      const { errors } = validateResource(kindOf(c.kind), c.object, ctx(c.context));
      const match = errors.find((e) => e.field === c.field);
      expect(match, `errors were: ${JSON.stringify(errors)}`).to.not.equal(undefined);
      expect(match!.message).to.match(c.reason);
    });
  }

  it('reports five different problems of one resource at once', () => {
    const d = validDeployment();
    d.metadata.name = 'Orders';
    delete d.spec.image;
    d.spec.job.parallelism = 0;
    d.spec.flinkConfiguration['kubernetes.cluster-id'] = 'x';
    d.spec.jobManager.replicas = 0;
    const fields = validateResource(FLINK_DEPLOYMENT, d, ctx()).errors.map((e) => e.field);
    expect(fields).to.have.members([
      'metadata.name',
      'spec.image',
      'spec.job.parallelism',
      'spec.flinkConfiguration["kubernetes.cluster-id"]',
      'spec.jobManager.replicas',
    ]);
  });

  it('does not pile a semantic complaint on a field whose type is already wrong', () => {
    const d = validDeployment();
    d.spec.image = 42;
    const errors = validateResource(FLINK_DEPLOYMENT, d, ctx()).errors;
    expect(errors).to.deep.equal([{ field: 'spec.image', message: 'must be a string (got number 42)' }]);
  });

  describe('memory from the Flink configuration instead of resources', () => {
    for (const [key, extra] of [
      ['jobmanager.memory.process.size', {}],
      ['jobmanager.memory.flink.size', {}],
      ['jobmanager.memory.heap.size', {}],
    ] as const) {
      it(`${key} satisfies the JobManager memory rule`, () => {
        const d = validDeployment();
        delete d.spec.jobManager.resource;
        Object.assign(d.spec.flinkConfiguration, { [key]: '1g' }, extra);
        expect(validateResource(FLINK_DEPLOYMENT, d, ctx()).errors).to.deep.equal([]);
      });
    }
    it('task heap alone does not give a TaskManager process size; with managed memory it does', () => {
      const d = validDeployment();
      delete d.spec.taskManager;
      d.spec.flinkConfiguration['taskmanager.memory.task.heap.size'] = '1g';
      expect(validateResource(FLINK_DEPLOYMENT, d, ctx()).errors.map((e) => e.field)).to.deep.equal([
        'spec.taskManager.resource.memory',
      ]);
      d.spec.flinkConfiguration['taskmanager.memory.managed.size'] = '512m';
      expect(validateResource(FLINK_DEPLOYMENT, d, ctx()).errors).to.deep.equal([]);
    });
    it('the operator defaults count, per namespace', () => {
      const d = validDeployment();
      delete d.spec.taskManager;
      const operatorConfig = {
        'kubernetes.operator.default-configuration.namespace.team-a.taskmanager.memory.process.size': '2g',
      };
      expect(validateResource(FLINK_DEPLOYMENT, d, ctx({ operatorConfig })).errors).to.deep.equal([]);
      d.metadata.namespace = 'team-b';
      expect(validateResource(FLINK_DEPLOYMENT, d, ctx({ operatorConfig })).errors).to.have.length(1);
    });
  });

  describe('session jobs and the outside world', () => {
    it('a host that does not resolve is admitted with a warning', () => {
      const verdict = validateResource(
        FLINK_SESSION_JOB,
        validSessionJob(),
        ctx({
          jarHost: { host: 'artifacts.example.com', addresses: undefined },
          sessionTarget: { state: 'found', deployment: sessionCluster() },
        }),
      );
      expect(verdict.errors).to.deep.equal([]);
      expect(verdict.warnings).to.deep.equal([
        'spec.job.jarURI: host "artifacts.example.com" does not resolve from the webhook; the operator checks it again before fetching the jar',
      ]);
    });
    it('a missing session cluster is admitted with a warning', () => {
      const verdict = validateResource(
        FLINK_SESSION_JOB,
        validSessionJob(),
        ctx({ sessionTarget: { state: 'missing' } }),
      );
      expect(verdict.errors).to.deep.equal([]);
      expect(verdict.warnings[0]).to.match(/FlinkDeployment "session" does not exist yet/);
    });
    it('a parallelism below 1 is refused whatever is known of the session: found, missing or not looked up', () => {
      const j = validSessionJob();
      j.spec.job.parallelism = 0;
      for (const sessionTarget of [
        { state: 'found', deployment: sessionCluster() },
        { state: 'missing' },
        { state: 'unknown', reason: 'no API access' },
      ] as const) {
        expect(
          validateResource(FLINK_SESSION_JOB, j, ctx({ sessionTarget })).errors,
          sessionTarget.state,
        ).to.deep.equal([{ field: 'spec.job.parallelism', message: 'must be ≥ 1 (got 0)' }]);
      }
    });
    it('without API access the other rules still apply, and the warning says the target was not checked', () => {
      const j = validSessionJob();
      j.spec.job.jarURI = 'ftp://x/y.jar';
      const verdict = validateResource(
        FLINK_SESSION_JOB,
        j,
        ctx({ sessionTarget: { state: 'unknown', reason: 'no API access' } }),
      );
      expect(verdict.errors.map((e) => e.field)).to.deep.equal(['spec.job.jarURI']);
      expect(verdict.warnings).to.deep.equal([
        'spec.deploymentName: the session cluster could not be checked (no API access); the operator checks it before submitting',
      ]);
    });
    it('the allowed schemes come from the operator configuration', () => {
      const j = validSessionJob();
      j.spec.job.jarURI = 'http://artifacts.example.com/wordcount.jar';
      const operatorConfig = { 'kubernetes.operator.user.artifacts.allowed-schemes': 'https;http' };
      expect(
        validateResource(FLINK_SESSION_JOB, j, ctx({ operatorConfig, sessionTarget: { state: 'missing' } })).errors,
      ).to.deep.equal([]);
    });
    it('restricted hosts may be allowed by the operator configuration', () => {
      const j = validSessionJob();
      j.spec.job.jarURI = 'https://127.0.0.1/x.jar';
      const operatorConfig = { 'kubernetes.operator.user.artifacts.disallow-restricted-hosts': 'false' };
      expect(
        validateResource(FLINK_SESSION_JOB, j, ctx({ operatorConfig, sessionTarget: { state: 'missing' } })).errors,
      ).to.deep.equal([]);
    });
    it('the job may take its directories from the session cluster', () => {
      const j = validSessionJob();
      j.spec.job.upgradeMode = 'savepoint';
      const session = sessionCluster();
      Object.assign(session.spec.flinkConfiguration, {
        'state.checkpoints.dir': 'file:///c',
        'state.savepoints.dir': 'file:///s',
      });
      expect(
        validateResource(FLINK_SESSION_JOB, j, ctx({ sessionTarget: { state: 'found', deployment: session } })).errors,
      ).to.deep.equal([]);
    });
  });
});
