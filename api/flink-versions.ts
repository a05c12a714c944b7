// What each `spec.flinkVersion` means to the operator: whether it is supported, and the dialect its Flink speaks —
// the file it reads its configuration from and the keys it reads. One table, keyed by version (upstream: the
// FlinkVersion enum and the version checks in FlinkConfMountDecorator, FlinkConfigBuilder and AbstractFlinkService).
import { FLINK_VERSIONS } from './schema/flink-resources.js';

export type FlinkVersion = (typeof FLINK_VERSIONS)[number];

export type Support =
  { level: 'supported' } | { level: 'deprecated'; since: string } | { level: 'unsupported'; since: string };

export interface FlinkDialect {
  /** The file in the flink-config ConfigMap: flat `flink-conf.yaml` before 2.0, standard `config.yaml` from 2.0. */
  configFile: 'flink-conf.yaml' | 'config.yaml';
  /** 1.17 renamed the image key and gave the CPU keys an `.amount` suffix. */
  imageKey: 'kubernetes.container.image' | 'kubernetes.container.image.ref';
  cpuSuffix: '' | '.amount';
  /** 1.20 moved the restore settings under `execution.state-recovery.*` (the old keys stay as fallbacks until 2.x). */
  restorePathKey: 'execution.savepoint.path' | 'execution.state-recovery.path';
  ignoreUnclaimedStateKey:
    'execution.savepoint.ignore-unclaimed-state' | 'execution.state-recovery.ignore-unclaimed-state';
  /** `POST /jars/:id/run` takes `flinkConfiguration` from 1.17 on (FLIP-256); older Flink refuses the field. */
  jarRunTakesConfiguration: boolean;
  /** `POST /jobs/:id/checkpoints` (a checkpoint triggered from outside) exists from 1.17 on. */
  triggersCheckpoints: boolean;
  /**
   * 2.3 keeps applications' results in a store of their own (FLIP-549) beside the job results, under an application
   * id derived from the cluster: a new cluster that finds its predecessor's result there takes the application for
   * finished and never runs it.
   */
  applicationResultStore: boolean;
  /** The adaptive scheduler takes new parallelisms of a running job (`PUT /jobs/:id/resource-requirements`, 1.18+). */
  rescalesInPlace: boolean;
}

const SUPPORT: Partial<Record<FlinkVersion, Support>> = {
  v1_13: { level: 'unsupported', since: 'operator 1.7' },
  v1_14: { level: 'unsupported', since: 'operator 1.7' },
  v1_15: { level: 'deprecated', since: 'operator 1.10' },
  v1_16: { level: 'deprecated', since: 'operator 1.11' },
  v1_17: { level: 'deprecated', since: 'operator 1.13' },
  v1_18: { level: 'deprecated', since: 'operator 1.13' },
};

export function support(version: FlinkVersion): Support {
  return SUPPORT[version] ?? { level: 'supported' };
}

export function isFlinkVersion(value: unknown): value is FlinkVersion {
  return (FLINK_VERSIONS as readonly unknown[]).includes(value);
}

/** The versions a resource may name without a warning, oldest first. */
export function supportedVersions(): FlinkVersion[] {
  return FLINK_VERSIONS.filter((v) => support(v).level === 'supported');
}

/** Orders `v1_20` < `v2_0`; unknown shapes sort first. */
export function compareFlinkVersions(a: string, b: string): number {
  const parse = (v: string) => /^v(\d+)_(\d+)$/.exec(v)?.slice(1).map(Number) ?? [-1, -1];
  const [am, an] = parse(a);
  const [bm, bn] = parse(b);
  return am! - bm! || an! - bn!;
}

/**
 * The dialect of a version's Flink. No version (a resource that does not say) speaks the newest supported line's:
 * what an image without a version label most likely runs.
 */
export function dialect(version: string | undefined): FlinkDialect {
  const atLeast = (v: FlinkVersion) => version === undefined || compareFlinkVersions(version, v) >= 0;
  const stateRecovery = atLeast('v1_20');
  return {
    configFile: atLeast('v2_0') ? 'config.yaml' : 'flink-conf.yaml',
    imageKey: atLeast('v1_17') ? 'kubernetes.container.image.ref' : 'kubernetes.container.image',
    cpuSuffix: atLeast('v1_17') ? '.amount' : '',
    restorePathKey: stateRecovery ? 'execution.state-recovery.path' : 'execution.savepoint.path',
    ignoreUnclaimedStateKey: stateRecovery
      ? 'execution.state-recovery.ignore-unclaimed-state'
      : 'execution.savepoint.ignore-unclaimed-state',
    jarRunTakesConfiguration: atLeast('v1_17'),
    triggersCheckpoints: atLeast('v1_17'),
    applicationResultStore: atLeast('v2_3'),
    rescalesInPlace: atLeast('v1_18'),
  };
}
