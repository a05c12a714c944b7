// Each line's configuration catalogue (read from its own jars) as admission uses it: values Flink cannot read are
// refused with the field and the type, deprecated keys and likely typos are warned of, and a version without a
// catalogue of its own is not checked against another line's.
import { expect } from 'chai';
import { catalogueFor, cataloguedVersions, lookUp, valueProblem } from '../../api/flink-catalogue/index.js';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB } from '../../api/schema/crd.js';
import { validateResource } from '../../api/validation/index.js';
import { FLINK_LINES } from '../../local/flink/runner-build.js';
import { validDeployment, validSessionJob } from '../support/invalid-cases.js';

const admit = (flinkVersion: string, flinkConfiguration: Record<string, string>) => {
  const d = validDeployment();
  d.spec.flinkVersion = flinkVersion;
  d.spec.flinkConfiguration = flinkConfiguration;
  return validateResource(FLINK_DEPLOYMENT, d, { operatorConfig: {} });
};

describe("Flink's own configuration options, per line", () => {
  it('has the catalogue of every line the local stack runs, read from that very release', () => {
    const expected = Object.fromEntries(
      FLINK_LINES.map((line) => [line.runs[line.runs.length - 1], line.flink] as const),
    );
    expect(cataloguedVersions()).to.deep.equal(expected);
  });

  const v22 = catalogueFor('v2_2')!;
  const rows: [string, string, string | undefined][] = [
    ['taskmanager.numberOfTaskSlots', '2', undefined],
    ['taskmanager.numberOfTaskSlots', 'two', 'is not an integer'],
    ['taskmanager.numberOfTaskSlots', '2147483648', 'is not an integer'],
    ['execution.checkpointing.interval', '10 s', undefined],
    ['execution.checkpointing.interval', '10000', undefined],
    ['execution.checkpointing.interval', '1.5 s', 'is not a duration (e.g. 30 s, 5 min, 1 h)'],
    ['taskmanager.memory.process.size', '2048m', undefined],
    ['taskmanager.memory.process.size', '2 gigs', 'is not a memory size (e.g. 512m, 2g, 1024mb)'],
    ['execution.checkpointing.mode', 'at_least_once', undefined],
    ['execution.checkpointing.mode', 'SOMETIMES', 'is not one of EXACTLY_ONCE, AT_LEAST_ONCE'],
    ['pipeline.object-reuse', 'TRUE', undefined],
    ['pipeline.object-reuse', 'yes', 'is not true or false'],
    ['kubernetes.jobmanager.annotations', 'a:b,c:d', undefined],
  ];
  for (const [key, value, problem] of rows) {
    it(`${key}: ${JSON.stringify(value)} → ${problem ?? 'read'}`, () => {
      const verdict = lookUp(v22, key);
      expect(verdict.kind).to.equal('known');
      expect(valueProblem((verdict as { option: Parameters<typeof valueProblem>[0] }).option, value)).to.equal(problem);
    });
  }

  it('refuses a value Flink cannot read with its field, the type and the release', () => {
    expect(admit('v2_3', { 'taskmanager.numberOfTaskSlots': 'two' }).errors).to.deep.equal([
      {
        field: 'spec.flinkConfiguration["taskmanager.numberOfTaskSlots"]',
        message:
          '"two" is not an integer: Flink 2.3.0 reads taskmanager.numberOfTaskSlots as an Integer and refuses this',
      },
    ]);
    expect(
      admit('v1_20', { 'state.checkpoints.num-retained': 'many' }).errors.map((e) => e.message),
      'a deprecated key is read as the option it now feeds',
    ).to.deep.equal([
      '"many" is not an integer: Flink 1.20.5 reads state.checkpoints.num-retained (now execution.checkpointing.num-retained) as an Integer and refuses this',
    ]);
  });

  it('warns of a deprecated key with its replacement on that line, and of a typo with the key it means', () => {
    expect(
      admit('v1_20', {
        'state.savepoints.dir': 'file:///flink-data/savepoints',
        'taskmanager.numberOfTaskSlot': '2',
      }).warnings,
    ).to.deep.equal([
      'spec.flinkConfiguration["state.savepoints.dir"]: deprecated in Flink 1.20.5; use execution.checkpointing.savepoint-dir',
      'spec.flinkConfiguration["taskmanager.numberOfTaskSlot"]: not an option of Flink 1.20.5; did you mean taskmanager.numberOfTaskSlots?',
    ]);
  });

  it("leaves alone what no jar here declares (plugins', connectors'), map entries, and readable operator keys", () => {
    const verdict = admit('v2_2', {
      's3.access-key': 'k',
      'state.backend.rocksdb.localdir': '/tmp',
      'kubernetes.operator.reconcile.interval': '5 s',
      'kubernetes.jobmanager.annotations.team': 'a',
      'external-resource.gpu.amount': '1',
    });
    expect(verdict).to.deep.include({ errors: [], warnings: [] });
  });

  it("checks a session job's configuration against its session's Flink", () => {
    const session = validDeployment();
    session.spec.flinkVersion = 'v1_20';
    delete session.spec.job;
    const job = validSessionJob();
    job.spec.flinkConfiguration = { 'execution.checkpointing.interval': 'often' };
    const verdict = validateResource(FLINK_SESSION_JOB, job, {
      operatorConfig: {},
      sessionTarget: { state: 'found', deployment: session },
    });
    expect(verdict.errors.map((e) => `${e.field}: ${e.message}`)).to.deep.equal([
      'spec.flinkConfiguration["execution.checkpointing.interval"]: "often" is not a duration (e.g. 30 s, 5 min, 1 h): Flink 1.20.5 reads execution.checkpointing.interval as a Duration and refuses this',
    ]);
  });

  it("reads the operator's own keys against its registry, on every version", () => {
    const verdict = admit('v1_19', {
      'kubernetes.operator.reconcile.interval': 'often',
      'kubernetes.operator.user.artifacts.allowed-schemes': 'file',
      'kubernetes.operator.reconcile.intervall': '5 s',
      'kubernetes.operator.observer.progress-check.interval': '5 s',
    });
    expect(verdict.errors.map((e) => `${e.field}: ${e.message}`)).to.deep.equal([
      'spec.flinkConfiguration["kubernetes.operator.reconcile.interval"]: "often" is not a duration (e.g. 30 s, 5 min): the operator reads kubernetes.operator.reconcile.interval as one',
    ]);
    expect(verdict.warnings).to.deep.equal([
      'spec.flinkConfiguration["kubernetes.operator.user.artifacts.allowed-schemes"]: read from the operator\'s configuration only: set on a resource it changes nothing',
      'spec.flinkConfiguration["kubernetes.operator.reconcile.intervall"]: not an option this operator reads; did you mean kubernetes.operator.reconcile.interval?',
    ]);
  });

  it("finds no catalogue under a version named like an object's own property (toString)", () => {
    expect(catalogueFor('toString')).to.equal(undefined);
    expect(admit('toString', { 'taskmanager.numberOfTaskSlots': 'two' }).errors.map((e) => e.field)).to.deep.equal([
      'spec.flinkVersion',
    ]);
  });

  it('checks nothing for a version without a catalogue of its own (1.19 is not 1.20)', () => {
    expect(admit('v1_19', { 'taskmanager.numberOfTaskSlots': 'two', 'state.savepoints.dir': '/x' })).to.deep.include({
      errors: [],
      warnings: [],
    });
  });

  it('keeps its warnings to a few lines, however many unknown keys a resource has', () => {
    const many = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`custom.key-${i}`, 'x']));
    const { warnings } = admit('v2_2', many);
    expect(warnings).to.have.length(21);
    expect(warnings[20]).to.equal('spec.flinkConfiguration: and 1980 more keys to check');
  });
});
