import { expect } from 'chai';
import { withDefaults } from '../../api/defaults.js';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB, FLINK_STATE_SNAPSHOT } from '../../api/schema/crd.js';
import { asObject, type Json } from '../../api/validation/access.js';

describe('defaults (SPEC §2)', () => {
  it('fills every FlinkDeployment default that is absent', () => {
    const out = withDefaults(FLINK_DEPLOYMENT, {
      metadata: { name: 'x' },
      spec: { job: { jarURI: 'local:///a.jar' } },
    });
    expect(out.spec).to.deep.equal({
      serviceAccount: 'flink',
      mode: 'native',
      jobManager: { replicas: 1 },
      job: { jarURI: 'local:///a.jar', state: 'running', upgradeMode: 'stateless', args: [] },
    });
  });

  it('never overwrites a user value', () => {
    const spec = {
      serviceAccount: 'mine',
      mode: 'standalone',
      jobManager: { replicas: 2 },
      job: { state: 'suspended', upgradeMode: 'savepoint', args: ['--x'] },
    };
    expect(withDefaults(FLINK_DEPLOYMENT, { spec: structuredClone(spec) }).spec).to.deep.equal(spec);
  });

  it('adds no job defaults to a session cluster, and leaves the input object untouched', () => {
    const input = { spec: { image: 'flink:2.2' } };
    const out = withDefaults(FLINK_DEPLOYMENT, input);
    expect(out.spec).to.deep.equal({
      image: 'flink:2.2',
      serviceAccount: 'flink',
      mode: 'native',
      jobManager: { replicas: 1 },
    });
    expect(input).to.deep.equal({ spec: { image: 'flink:2.2' } });
  });

  it('leaves sections of the wrong type for validation to report', () => {
    const out = withDefaults(FLINK_DEPLOYMENT, { spec: { jobManager: 'big', job: [1] } });
    expect(out.spec).to.deep.equal({ serviceAccount: 'flink', mode: 'native', jobManager: 'big', job: [1] });
    expect(withDefaults(FLINK_DEPLOYMENT, { spec: 'nonsense' })).to.deep.equal({ spec: 'nonsense' });
  });

  it('labels a session job with its session cluster and defaults its job', () => {
    const out = withDefaults(FLINK_SESSION_JOB, {
      metadata: { name: 'j', labels: { team: 'a', 'target.session': 'stale' } },
      spec: { deploymentName: 's', job: {} },
    });
    expect(out).to.deep.equal({
      metadata: { name: 'j', labels: { team: 'a', 'target.session': 's' } },
      spec: { deploymentName: 's', job: { state: 'running', upgradeMode: 'stateless', args: [] } },
    });
  });

  it('copies into the label only a session name a label can hold (validation refuses the others with a reason)', () => {
    for (const deploymentName of ['x'.repeat(64), 'a b', '-session', '\\'.repeat(100_000)]) {
      const out = withDefaults(FLINK_SESSION_JOB, { metadata: { name: 'j' }, spec: { deploymentName, job: {} } });
      expect(out.metadata, deploymentName.slice(0, 10)).to.deep.equal({ name: 'j' });
    }
    expect(
      withDefaults(FLINK_SESSION_JOB, { metadata: { name: 'j' }, spec: { deploymentName: 'x'.repeat(63) } }).metadata,
    ).to.deep.equal({ name: 'j', labels: { 'target.session': 'x'.repeat(63) } });
  });

  it('never writes into the object it was given, whatever the kind (the input is deep-frozen)', () => {
    const freeze = <T>(value: T): T => {
      if (value && typeof value === 'object') for (const v of Object.values(Object.freeze(value))) freeze(v);
      return value;
    };
    const cases = [
      [
        FLINK_DEPLOYMENT,
        {
          metadata: { name: 'x' },
          spec: { jobManager: { resource: { cpu: 1 } }, job: { jarURI: 'local:///a.jar' }, podTemplate: { spec: {} } },
        },
      ],
      [FLINK_DEPLOYMENT, { spec: { jobManager: null, job: null } }],
      [
        FLINK_SESSION_JOB,
        { metadata: { labels: { team: 'a' } }, spec: { deploymentName: 's', job: { jarURI: 'https://h/a.jar' } } },
      ],
      [FLINK_SESSION_JOB, { spec: { deploymentName: 's' } }],
      [
        FLINK_STATE_SNAPSHOT,
        { spec: { savepoint: { path: 's3://b/p' }, jobReference: { kind: 'FlinkDeployment', name: 'x' } } },
      ],
    ] as const;
    for (const [kind, resource] of cases) {
      const input = freeze(structuredClone(resource) as Json);
      const out = withDefaults(kind, input);
      expect(input, kind.kind).to.deep.equal(resource);
      expect(out, kind.kind).to.not.deep.equal(resource);
    }
  });

  it('shares what it did not default with the input, so the patch diff skips it', () => {
    const podTemplate = { spec: { containers: [{ name: 'flink-main-container' }] } };
    const out = withDefaults(FLINK_DEPLOYMENT, { spec: { podTemplate, job: { jarURI: 'local:///a.jar' } } });
    expect(asObject(out.spec)?.podTemplate).to.equal(podTemplate);
  });

  it('defaults a snapshot: retried forever, a canonical savepoint disposed of with its resource', () => {
    const out = withDefaults(FLINK_STATE_SNAPSHOT, { spec: { savepoint: { path: 's3://b/p' } } });
    expect(out.spec).to.deep.equal({
      backoffLimit: -1,
      savepoint: { path: 's3://b/p', formatType: 'CANONICAL', disposeOnDelete: true, alreadyExists: false },
    });
  });
});
