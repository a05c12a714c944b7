// Quartz cron expressions, as upstream's periodic snapshot intervals accept them (`0 0 */6 ? * *`): seconds,
// minutes, hours, day of month, month, day of week and an optional year; `*`, `?`, numbers, ranges, lists, steps and
// the month and weekday names (weekdays 1-7, 1 = SUN, as Quartz counts). Quartz's L, W and # are refused with a
// reason rather than guessed. Times are UTC.
import { shown } from './validation/field-error.js';

export interface CronSchedule {
  /** The first firing time strictly after `afterMs`, or undefined when there is none within five years. */
  next(afterMs: number): number | undefined;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The first name stands for this number. */
  namesFrom?: number;
}

const FIELDS: FieldRule[] = [
  { name: 'seconds', min: 0, max: 59 },
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day of week', min: 1, max: 7, names: WEEKDAYS, namesFrom: 1 },
  { name: 'year', min: 1970, max: 2199 },
];

/** The schedule, or the reason the expression is not one this operator reads. */
export function parseCron(text: string): CronSchedule | string {
  const parts = text.trim().toUpperCase().split(/\s+/);
  if (parts.length < 6 || parts.length > 7) return `a Quartz cron expression has 6 or 7 fields (got ${parts.length})`;
  const sets: (Set<number> | undefined)[] = [];
  for (let i = 0; i < parts.length; i++) {
    const parsed = parseField(parts[i]!, FIELDS[i]!, i === 3 || i === 5);
    if (typeof parsed === 'string') return parsed;
    sets.push(parsed);
  }
  const [seconds, minutes, hours, days, months, weekdays, years] = sets;
  if ((days === undefined) === (weekdays === undefined))
    return 'exactly one of day of month and day of week must be "?"';
  return {
    next(afterMs) {
      const start = new Date(Math.floor(afterMs / 1000) * 1000 + 1000);
      for (let d = 0; d < 5 * 366; d++) {
        const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + d));
        const matches =
          months!.has(day.getUTCMonth() + 1) &&
          (years === undefined || years.has(day.getUTCFullYear())) &&
          (days === undefined || days.has(day.getUTCDate())) &&
          (weekdays === undefined || weekdays.has(day.getUTCDay() + 1));
        if (!matches) continue;
        for (const h of sorted(hours!))
          for (const m of sorted(minutes!))
            for (const s of sorted(seconds!)) {
              const at = day.getTime() + ((h * 60 + m) * 60 + s) * 1000;
              if (at >= start.getTime()) return at;
            }
      }
      return undefined;
    },
  };
}

const sorted = (set: Set<number>) => [...set].sort((a, b) => a - b);

/** `undefined` stands for `?` (no constraint), allowed only in the day fields. */
function parseField(text: string, rule: FieldRule, mayBeAny: boolean): Set<number> | undefined | string {
  if (text === '?')
    return mayBeAny ? undefined : `"?" is only allowed for day of month or day of week, not ${rule.name}`;
  if (/[LW#]/.test(text.replace(/[A-Z]{3}/g, (n) => (rule.names?.includes(n) ? '' : n))))
    return `${rule.name}: L, W and # are not supported`;
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(\*|[A-Z0-9]+(?:-[A-Z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) return `${rule.name}: ${shown(item)} is not a value, range or step`;
    const step = match[2] === undefined ? 1 : Number(match[2]);
    if (step < 1) return `${rule.name}: a step must be at least 1`;
    let from = rule.min;
    let to = rule.max;
    if (match[1] !== '*') {
      const [a, b] = match[1]!.split('-');
      const first = value(a!, rule);
      const last = b === undefined ? (match[2] === undefined ? first : rule.max) : value(b, rule);
      if (first === undefined || last === undefined || first > last)
        return `${rule.name}: ${shown(item)} is out of ${rule.min}-${rule.max}`;
      from = first;
      to = last;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function value(text: string, rule: FieldRule): number | undefined {
  const named = rule.names?.indexOf(text) ?? -1;
  const n = named >= 0 ? named + (rule.namesFrom ?? 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  return n >= rule.min && n <= rule.max ? n : undefined;
}
