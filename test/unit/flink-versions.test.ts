// Each Flink line's dialect and support, as a table (upstream: FlinkVersion, FlinkConfMountDecorator#useStandardYamlConfig,
// FlinkConfigBuilder's image and cpu keys, AbstractFlinkService#runJar), and what a user sees of it: the ConfigMap's
// file, the keys a restore is written under, and the admission answer for an old version.
import { expect } from 'chai';
import { buildFlinkConfiguration } from '../../api/cluster/flink-configuration.js';
import { clusterObjects } from '../../api/cluster/objects.js';
import { dialect, support, supportedVersions, type FlinkVersion } from '../../api/flink-versions.js';
import { FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import type { FlinkDeploymentSpec } from '../../api/types.generated.js';
import { validateResource } from '../../api/validation/index.js';
import { validDeployment } from '../support/invalid-cases.js';

describe('Flink versions: support and dialect per line', () => {
  const rows: [FlinkVersion, string, string, string, string, boolean][] = [
    // version, config file, image key, restore key, cpu key, jar run takes a configuration
    ['v1_16', 'flink-conf.yaml', 'kubernetes.container.image', 'execution.savepoint.path', '', false],
    ['v1_17', 'flink-conf.yaml', 'kubernetes.container.image.ref', 'execution.savepoint.path', '.amount', true],
    ['v1_19', 'flink-conf.yaml', 'kubernetes.container.image.ref', 'execution.savepoint.path', '.amount', true],
    ['v1_20', 'flink-conf.yaml', 'kubernetes.container.image.ref', 'execution.state-recovery.path', '.amount', true],
    ['v2_0', 'config.yaml', 'kubernetes.container.image.ref', 'execution.state-recovery.path', '.amount', true],
    ['v2_3', 'config.yaml', 'kubernetes.container.image.ref', 'execution.state-recovery.path', '.amount', true],
  ];
  for (const [version, file, imageKey, restoreKey, cpuSuffix, jarRun] of rows) {
    it(`${version}: ${file}, ${restoreKey}`, () => {
      expect(dialect(version)).to.deep.include({
        configFile: file,
        imageKey,
        restorePathKey: restoreKey,
        cpuSuffix,
        jarRunTakesConfiguration: jarRun,
      });
      const spec = { ...validDeployment().spec, flinkVersion: version } as FlinkDeploymentSpec;
      const conf = buildFlinkConfiguration(
        { name: 'orders', namespace: 'team-a' },
        spec,
        {},
        {
          jobId: 'a'.repeat(32),
          restorePath: 'file:///sp/savepoint-1',
        },
      );
      expect(conf[restoreKey], 'the restore path, under the key this Flink reads').to.equal('file:///sp/savepoint-1');
      expect(conf[imageKey]).to.equal(spec.image);
      expect(conf[`kubernetes.taskmanager.cpu${cpuSuffix}`]).to.equal('1');
      const objects = clusterObjects({ name: 'orders', namespace: 'team-a', uid: 'u', generation: 1, spec, conf });
      const configMap = objects.dependents.find((d) => d.kind === 'ConfigMap') as { data: Record<string, string> };
      expect(Object.keys(configMap.data), 'the ConfigMap carries the file this Flink reads').to.include(file);
      expect(configMap.data[file]).to.contain(`${restoreKey}: file:///sp/savepoint-1`);
    });
  }

  it('knows unsupported, deprecated and supported versions as upstream does', () => {
    expect(support('v1_14')).to.deep.equal({ level: 'unsupported', since: 'operator 1.7' });
    expect(support('v1_15')).to.deep.equal({ level: 'deprecated', since: 'operator 1.10' });
    expect(support('v1_18')).to.deep.equal({ level: 'deprecated', since: 'operator 1.13' });
    expect(supportedVersions()).to.deep.equal(['v1_19', 'v1_20', 'v2_0', 'v2_1', 'v2_2', 'v2_3', 'v2_4']);
  });

  const admit = (flinkVersion: string) => {
    const resource = validDeployment();
    resource.spec.flinkVersion = flinkVersion;
    return validateResource(FLINK_DEPLOYMENT, resource, { operatorConfig: {} });
  };

  it('admits a deprecated version with a warning that names what to move to', () => {
    const verdict = admit('v1_16');
    expect(verdict.errors).to.deep.equal([]);
    expect(verdict.warnings).to.deep.equal([
      'spec.flinkVersion: v1_16 is deprecated (since operator 1.11) and a later release will refuse it; move to one of v1_19, v1_20, v2_0, v2_1, v2_2, v2_3, v2_4',
    ]);
  });

  it('refuses an unsupported version, and warns of nothing on a supported one', () => {
    expect(admit('v1_13').errors.map((e) => `${e.field}: ${e.message}`)).to.deep.equal([
      'spec.flinkVersion: v1_13 is no longer supported (since operator 1.7); use one of v1_19, v1_20, v2_0, v2_1, v2_2, v2_3, v2_4',
    ]);
    expect(admit('v1_20')).to.deep.include({ errors: [], warnings: [] });
  });
});
