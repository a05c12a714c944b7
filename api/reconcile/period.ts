// When a periodic snapshot is due: upstream's intervals are a duration (`6 h`) or a Quartz cron expression.
import { parseCron } from '../cron.js';
import { parseDurationMs } from '../flink-config.js';

/** Why `text` is no period, or undefined when it is one. */
export function periodProblem(text: string): string | undefined {
  if (parseDurationMs(text) !== undefined) return undefined;
  const cron = parseCron(text);
  return typeof cron === 'string' ? cron : undefined;
}

/** Due when a duration has passed since `lastMs`, or the cron schedule fired after it; never for no or a bad period. */
export function periodDue(text: string | undefined, lastMs: number, nowMs: number): boolean {
  if (!text || text.trim() === '') return false;
  const ms = parseDurationMs(text);
  if (ms !== undefined) return ms > 0 && nowMs - lastMs >= ms;
  const cron = parseCron(text);
  if (typeof cron === 'string') return false;
  const next = cron.next(lastMs);
  return next !== undefined && next <= nowMs;
}
