// What the benchmarks share: one JSON line per figure (name, value, unit), then a human summary; memory; polling.
import { readFileSync } from 'node:fs';

export interface Figure {
  name: string;
  value: number;
  unit: string;
}

export class Report {
  private readonly figures: Figure[] = [];
  constructor(private readonly title: string) {}

  add(name: string, value: number, unit: string): void {
    const figure = { name, value: Math.round(value * 100) / 100, unit };
    this.figures.push(figure);
    console.log(JSON.stringify(figure));
  }

  summary(notes: string[] = []): void {
    const width = Math.max(...this.figures.map((f) => f.name.length));
    console.log(`\n${this.title}`);
    for (const f of this.figures) console.log(`  ${f.name.padEnd(width)}  ${String(f.value).padStart(10)} ${f.unit}`);
    for (const note of notes) console.log(`  ${note}`);
  }
}

/** A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB. */
export function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** CPU time (user + system) a process has used so far, in seconds; /proc counts it in USER_HZ, 100 on Linux. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Polls `probe` until it gives a value (its errors count as "not yet"). */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 300_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error('timed out');
}
