// `job.autoscaler.excluded.periods` (upstream FLINK-33795, CalendarUtils): `;`-separated periods in which the
// autoscaler recommends but never rescales — daily `HH:mm:ss-HH:mm:ss` windows (one may cross midnight) and Quartz
// cron expressions, a time being excluded when the expression fires in its second. Times are UTC (upstream reads
// them in the operator JVM's zone).
import { parseCron, type CronSchedule } from '../cron.js';

type Period = { text: string; contains: (ms: number) => boolean };

const DAILY = /^(\d{2}):(\d{2}):(\d{2})-(\d{2}):(\d{2}):(\d{2})$/;

function parsePeriod(text: string): Period | string {
  const daily = DAILY.exec(text);
  if (daily) {
    const [h1, m1, s1, h2, m2, s2] = daily.slice(1).map(Number) as [number, number, number, number, number, number];
    if ([h1, h2].some((h) => h > 23) || [m1, s1, m2, s2].some((x) => x > 59))
      return `${JSON.stringify(text)} is not a daily window (HH:mm:ss-HH:mm:ss)`;
    const from = (h1 * 3600 + m1 * 60 + s1) * 1000;
    const to = (h2 * 3600 + m2 * 60 + s2) * 1000;
    const ofDay = (ms: number) => ((ms % 86_400_000) + 86_400_000) % 86_400_000;
    return {
      text,
      contains: (ms) => (from <= to ? ofDay(ms) >= from && ofDay(ms) < to : ofDay(ms) >= from || ofDay(ms) < to),
    };
  }
  const cron = parseCron(text);
  if (typeof cron === 'string')
    return `${JSON.stringify(text)} is neither HH:mm:ss-HH:mm:ss nor a cron expression: ${cron}`;
  return { text, contains: (ms) => firesAt(cron, ms) };
}

const firesAt = (cron: CronSchedule, ms: number) => {
  const second = Math.floor(ms / 1000) * 1000;
  return cron.next(second - 1000) === second;
};

const periodsOf = (text: string | undefined) =>
  (text ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map(parsePeriod);

/** The period `now` falls in, if any (periods that do not read are skipped; admission refuses them). */
export function excludedPeriod(text: string | undefined, now: number): string | undefined {
  for (const p of periodsOf(text)) if (typeof p !== 'string' && p.contains(now)) return p.text;
  return undefined;
}

/** Why the periods do not read, if they do not. */
export function excludedPeriodsProblem(text: string): string | undefined {
  return periodsOf(text).find((p): p is string => typeof p === 'string');
}
