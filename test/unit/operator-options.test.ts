// The operator's options, declared once: defaults, types, deprecated names and blank values, as Flink's
// ConfigOption fallbacks read them. Expected values written by hand from the declarations' meaning.
import { expect } from 'chai';
import { option, OPTIONS, optionsTable, rawOption, watchedNamespaces } from '../../api/operator-options.js';

describe('operator options', () => {
  const cases: [string, Record<string, string>, keyof typeof OPTIONS, unknown][] = [
    ['default when absent', {}, 'reconcileInterval', 60_000],
    ['a duration with a unit', { 'kubernetes.operator.reconcile.interval': '15 s' }, 'reconcileInterval', 15_000],
    ['a blank value counts as unset', { 'kubernetes.operator.reconcile.interval': '  ' }, 'reconcileInterval', 60_000],
    [
      'an unreadable value falls back to the default',
      { 'kubernetes.operator.reconcile.interval': 'soon' },
      'reconcileInterval',
      60_000,
    ],
    ['a flag', { 'kubernetes.operator.deployment.rollback.enabled': 'TRUE' }, 'rollbackEnabled', true],
    ['a flag default true', {}, 'jobManagerRecovery', true],
    [
      'a deprecated name is read when the key is absent',
      { 'kubernetes.operator.reconciler.jm-deployment-recovery.enabled': 'false' },
      'jobManagerRecovery',
      false,
    ],
    [
      'the key wins over its deprecated name',
      {
        'kubernetes.operator.jm-deployment-recovery.enabled': 'true',
        'kubernetes.operator.reconciler.jm-deployment-recovery.enabled': 'false',
      },
      'jobManagerRecovery',
      true,
    ],
    ['an integer', { 'kubernetes.operator.reconcile.parallelism': '8' }, 'reconcileParallelism', 8],
    ['text', { 'kubernetes.operator.leader-election.lease-name': 'mine' }, 'leaseName', 'mine'],
  ];
  for (const [what, conf, name, expected] of cases) {
    it(what, () => expect(option(conf, OPTIONS[name] as never)).to.equal(expected));
  }

  it('a key present but blank hides its deprecated name from rules that test for presence', () => {
    const conf = {
      'kubernetes.operator.jm-deployment-recovery.enabled': '',
      'kubernetes.operator.reconciler.jm-deployment-recovery.enabled': 'false',
    };
    expect(rawOption(conf, OPTIONS.jobManagerRecovery)).to.equal('');
  });

  it('the README table lists every key once, with its former names', () => {
    const table = optionsTable();
    for (const o of Object.values(OPTIONS)) expect(table.split(`\`${o.key}\``).length - 1, o.key).to.equal(1);
    expect(table).to.contain('(formerly `kubernetes.operator.reconciler.jm-deployment-recovery.enabled`)');
  });
});

describe('watched namespaces', () => {
  it("--namespaces wins over the configuration; blanks and upstream's JOSDK_ALL_NAMESPACES mean all", () => {
    const conf = { 'kubernetes.operator.watched.namespaces': ' team-a, team-b ,' };
    expect(watchedNamespaces(conf)).to.deep.equal(['team-a', 'team-b']);
    expect(watchedNamespaces(conf, 'ops')).to.deep.equal(['ops']);
    expect(watchedNamespaces({ 'kubernetes.operator.watched.namespaces': 'JOSDK_ALL_NAMESPACES' })).to.deep.equal([]);
    expect(watchedNamespaces({})).to.deep.equal([]);
  });
});
