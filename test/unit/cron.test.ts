// Quartz cron expressions for periodic snapshots: next firing times and refusals worked out by hand (UTC;
// 2026-11-30 is a Monday; Quartz numbers weekdays 1-7 from Sunday).
import { expect } from 'chai';
import { parseCron } from '../../api/cron.js';
import { periodDue, periodProblem } from '../../api/reconcile/period.js';

const at = (iso: string) => Date.parse(iso);
const next = (expression: string, after: string) => {
  const schedule = parseCron(expression);
  if (typeof schedule === 'string') throw new Error(schedule);
  const found = schedule.next(at(after));
  return found === undefined ? undefined : new Date(found).toISOString();
};

describe('Quartz cron schedules', () => {
  const cases: [string, string, string][] = [
    ['0 0 12 * * ?', '2026-11-30T10:00:00Z', '2026-11-30T12:00:00.000Z'],
    ['0 0 12 * * ?', '2026-11-30T12:00:00Z', '2026-12-01T12:00:00.000Z'],
    ['0 */15 * * * ?', '2026-11-30T10:07:30Z', '2026-11-30T10:15:00.000Z'],
    ['0 0 */6 ? * *', '2026-11-30T13:00:00Z', '2026-11-30T18:00:00.000Z'],
    ['30 0 0 1 JAN ? *', '2026-11-30T10:00:00Z', '2027-01-01T00:00:30.000Z'],
    ['0 0 9 ? * MON-FRI', '2026-11-28T10:00:00Z', '2026-11-30T09:00:00.000Z'],
    ['0 0 0 ? * 1', '2026-11-30T00:00:00Z', '2026-12-06T00:00:00.000Z'],
    ['0 15,45 8-9 * * ?', '2026-11-30T08:20:00Z', '2026-11-30T08:45:00.000Z'],
    ['0 0 0 29 2 ?', '2026-11-30T00:00:00Z', '2028-02-29T00:00:00.000Z'],
  ];
  for (const [expression, after, expected] of cases) {
    it(`"${expression}" after ${after} → ${expected}`, () => expect(next(expression, after)).to.equal(expected));
  }

  const refused: [string, RegExp][] = [
    ['0 0 12 * * *', /exactly one of day of month and day of week must be "\?"/],
    ['0 0 0 L * ?', /L, W and # are not supported/],
    ['0 0 0 ? * 6#3', /L, W and # are not supported/],
    ['61 0 0 * * ?', /seconds: "61" is out of 0-59/],
    ['* * *', /6 or 7 fields \(got 3\)/],
    ['0 0 ? * * *', /"\?" is only allowed for day of month or day of week, not hours/],
  ];
  for (const [expression, reason] of refused) {
    it(`refuses "${expression}"`, () => expect(parseCron(expression)).to.match(reason));
  }

  it('a period is a duration or a cron expression, due once it has passed or fired', () => {
    expect(periodProblem('6 h')).to.equal(undefined);
    expect(periodProblem('0 0 */6 ? * *')).to.equal(undefined);
    expect(periodProblem('every day')).to.match(/6 or 7 fields/);
    expect(periodDue('10 s', at('2026-11-30T10:00:00Z'), at('2026-11-30T10:00:09Z'))).to.equal(false);
    expect(periodDue('10 s', at('2026-11-30T10:00:00Z'), at('2026-11-30T10:00:10Z'))).to.equal(true);
    expect(periodDue('0 0 12 * * ?', at('2026-11-30T11:00:00Z'), at('2026-11-30T11:59:59Z'))).to.equal(false);
    expect(periodDue('0 0 12 * * ?', at('2026-11-30T11:00:00Z'), at('2026-11-30T12:00:00Z'))).to.equal(true);
    expect(
      periodDue('0 0 12 * * ?', at('2026-11-30T12:00:00Z'), at('2026-11-30T13:00:00Z')),
      'fired already at the last one',
    ).to.equal(false);
    expect(periodDue('every day', 0, Date.now())).to.equal(false);
  });
});
