import { expect } from 'chai';
import { withDefaults } from '../../api/defaults.js';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB } from '../../api/schema/crd.js';

describe('defaults (SPEC §2)', () => {
  it('fills every FlinkDeployment default that is absent', () => {
    const out = withDefaults(FLINK_DEPLOYMENT, { metadata: { name: 'x' }, spec: { job: { jarURI: 'local:///a.jar' } } });
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
    expect(out.spec).to.deep.equal({ image: 'flink:2.2', serviceAccount: 'flink', mode: 'native', jobManager: { replicas: 1 } });
    expect(input).to.deep.equal({ spec: { image: 'flink:2.2' } });
  });

  it('leaves sections of the wrong type for validation to report', () => {
    const out = withDefaults(FLINK_DEPLOYMENT, { spec: { jobManager: 'big', job: [1] } });
    expect(out.spec).to.deep.equal({ serviceAccount: 'flink', mode: 'native', jobManager: 'big', job: [1] });
    expect(withDefaults(FLINK_DEPLOYMENT, { spec: 'nonsense' })).to.deep.equal({ spec: 'nonsense' });
  });

  it('labels a session job with its session cluster and defaults its job', () => {
    const out = withDefaults(FLINK_SESSION_JOB, { metadata: { name: 'j', labels: { team: 'a', 'target.session': 'stale' } }, spec: { deploymentName: 's', job: {} } });
    expect(out).to.deep.equal({
      metadata: { name: 'j', labels: { team: 'a', 'target.session': 's' } },
      spec: { deploymentName: 's', job: { state: 'running', upgradeMode: 'stateless', args: [] } },
    });
  });
});
