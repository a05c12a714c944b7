import { expect } from 'chai';
import {
  checkpointStatsTtlMs,
  defaultConfigFor,
  flattenConfig,
  isHighAvailabilityEnabled,
  parseFlinkMemorySize,
  parseMemory,
  parseQuantity,
} from '../../api/flink-config.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('Flink configuration', () => {
  it('flattens nested YAML like upstream ConfigObjectNode (dots, lists joined with ;)', () => {
    expect(flattenConfig({ a: { b: 1, c: { d: true } }, 'x.y': 'z', list: ['p', 'q'], empty: null })).to.deep.equal({
      'a.b': '1',
      'a.c.d': 'true',
      'x.y': 'z',
      list: 'p;q',
    });
  });

  it('layers operator defaults: base, then flink-version (ascending, + means and later), then namespace', () => {
    const operator = {
      'parallelism.default': '1',
      'kubernetes.operator.default-configuration.flink-version.v1_20+.parallelism.default': '2',
      'kubernetes.operator.default-configuration.flink-version.v2_0+.parallelism.default': '3',
      'kubernetes.operator.default-configuration.flink-version.v1_19.only.v119': 'yes',
      'kubernetes.operator.default-configuration.namespace.prod.parallelism.default': '8',
    };
    expect(defaultConfigFor(operator, 'dev', 'v1_19')).to.deep.equal({
      'parallelism.default': '1',
      'only.v119': 'yes',
    });
    expect(defaultConfigFor(operator, 'dev', 'v1_20')['parallelism.default']).to.equal('2');
    expect(defaultConfigFor(operator, 'dev', 'v2_2')['parallelism.default']).to.equal('3');
    expect(defaultConfigFor(operator, 'prod', 'v2_2')['parallelism.default']).to.equal('8');
  });

  it('knows when HA is on (type or legacy key, NONE is off)', () => {
    expect(isHighAvailabilityEnabled({ 'high-availability.type': 'kubernetes' })).to.equal(true);
    expect(
      isHighAvailabilityEnabled({
        'high-availability': 'org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory',
      }),
    ).to.equal(true);
    expect(isHighAvailabilityEnabled({ 'high-availability.type': 'NONE' })).to.equal(false);
    expect(isHighAvailabilityEnabled({})).to.equal(false);
  });

  const memory: [string, number | undefined][] = [
    ['2048m', 2048 * MiB],
    ['2048 mb', 2048 * MiB],
    ['1g', GiB],
    ['1 gibibytes', GiB],
    ['100', 100],
    ['2Gi', 2 * GiB],
    ['2gb', 2 * GiB], // Flink's MemorySize reads it first, as upstream does: binary, not 2e9
    ['1.5Gi', 1.5 * GiB],
    ['512Mi', 512 * MiB],
    ['1e3', 1000],
    ['lots', undefined],
    ['', undefined],
  ];
  for (const [text, bytes] of memory) {
    it(`reads memory ${JSON.stringify(text)} as ${bytes ?? 'not memory'}`, () =>
      expect(parseMemory(text)).to.equal(bytes));
  }

  it("waits out Flink's checkpoint-statistics cache: its own key, else web.refresh-interval, else 3 s, never over a minute", () => {
    const cases: [Record<string, string>, number][] = [
      [{}, 3000],
      [{ 'web.refresh-interval': '10000' }, 10_000],
      [{ 'web.refresh-interval': '10000', 'rest.cache.checkpoint-statistics.timeout': '500 ms' }, 500],
      [{ 'rest.cache.checkpoint-statistics.timeout': '0 s' }, 0],
      [{ 'rest.cache.checkpoint-statistics.timeout': '2 h' }, 60_000],
      [{ 'rest.cache.checkpoint-statistics.timeout': 'soon' }, 3000],
    ];
    for (const [conf, ms] of cases) expect(checkpointStatsTtlMs(conf), JSON.stringify(conf)).to.equal(ms);
  });

  it('reads Flink MemorySize strictly (whole numbers, binary units)', () => {
    expect(parseFlinkMemorySize('1.5g')).to.equal(undefined);
    expect(parseFlinkMemorySize('7 kb')).to.equal(7 * 1024);
    expect(parseFlinkMemorySize('3 furlongs')).to.equal(undefined);
  });

  it('reads Kubernetes quantities', () => {
    expect(parseQuantity('500m')).to.equal(0.5);
    expect(parseQuantity('2')).to.equal(2);
    expect(parseQuantity(3)).to.equal(3);
    expect(parseQuantity('1k')).to.equal(1000);
    expect(parseQuantity('-1Gi')).to.equal(-GiB);
    expect(parseQuantity('1K')).to.equal(undefined);
    expect(parseQuantity('2 Gi')).to.equal(undefined);
  });
});
