// Each Flink line's own configuration options, read from its jars (`node dist/tools/generate.js flink-catalogues`):
// what admission checks a resource's flinkConfiguration against — a value Flink could not read is refused as Flink
// would refuse it at start-up, a deprecated key or a likely typo gets a warning. Only the lines the local stack runs
// have a catalogue; other versions' keys are not checked (no jars of theirs here to read the options from).
import { parseDurationMs, parseFlinkMemorySize } from '../flink-config.js';
import type { FlinkVersion } from '../flink-versions.js';
import { catalogue as flink1205 } from './flink-1.20.5.generated.js';
import { catalogue as flink221 } from './flink-2.2.1.generated.js';
import { catalogue as flink230 } from './flink-2.3.0.generated.js';

export interface FlinkOption {
  key: string;
  /** Flink's value class (`Integer`, `Duration`, `MemorySize`, …), or `enum`. */
  type: string;
  enumValues?: string[];
  list: boolean;
  deprecatedKeys: string[];
  deprecated: boolean;
}

export interface Catalogue {
  flink: string;
  options: ReadonlyMap<string, FlinkOption>;
  /** A deprecated key → the option that reads it now. */
  replacedBy: ReadonlyMap<string, FlinkOption>;
  /** Keys under which Flink reads a map (`kubernetes.jobmanager.annotations.x`) or a named template. */
  prefixes: readonly string[];
  patterns: readonly RegExp[];
}

const SOURCES: Partial<Record<FlinkVersion, string>> = { v1_20: flink1205, v2_2: flink221, v2_3: flink230 };
const parsed = new Map<string, Catalogue>();

/** The catalogue of a version's Flink, parsed on first use; none for a version whose jars we do not have. */
export function catalogueFor(version: string | undefined): Catalogue | undefined {
  // Own keys only: `toString` must not find Object.prototype's.
  const source =
    version !== undefined && Object.hasOwn(SOURCES, version) ? SOURCES[version as FlinkVersion] : undefined;
  if (source === undefined) return undefined;
  let found = parsed.get(version!);
  if (!found) parsed.set(version!, (found = parseCatalogue(source)));
  return found;
}

/** The versions with a catalogue, and the Flink release each was read from. */
export function cataloguedVersions(): Record<string, string> {
  return Object.fromEntries(Object.keys(SOURCES).map((v) => [v, catalogueFor(v)!.flink]));
}

export function parseCatalogue(text: string): Catalogue {
  const [header, ...lines] = text.trimEnd().split('\n');
  const options = new Map<string, FlinkOption>();
  const replacedBy = new Map<string, FlinkOption>();
  const prefixes: string[] = [];
  const patterns: RegExp[] = [];
  for (const line of lines) {
    const [key, rawType, deprecatedKeys, deprecated] = line.split('\t') as [string, string, string, string];
    const list = rawType.endsWith('[]');
    const type = list ? rawType.slice(0, -2) : rawType;
    const option: FlinkOption = {
      key,
      type: type.startsWith('enum:') ? 'enum' : type,
      ...(type.startsWith('enum:') ? { enumValues: type.slice('enum:'.length).split('|') } : {}),
      list,
      deprecatedKeys: deprecatedKeys === '' ? [] : deprecatedKeys.split(','),
      deprecated: deprecated === '1',
    };
    if (key.includes('<')) patterns.push(templatePattern(key));
    else options.set(key, option);
    if (option.type === 'Map') prefixes.push(`${key}.`);
    for (const old of option.deprecatedKeys) replacedBy.set(old, option);
  }
  return { flink: header!.replace(/^# Flink /, ''), options, replacedBy, prefixes, patterns };
}

/** `external-resource.<resource_name>.amount` → any one segment where the template names one. */
function templatePattern(key: string): RegExp {
  const escaped = key.split(/<[^>]+>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[^.]+')}$`);
}

/** Why Flink could not read `value` for the option, or undefined when it can (ConfigurationUtils' conversions). */
export function valueProblem(option: FlinkOption, value: string): string | undefined {
  const items = option.list ? value.split(';').filter((item) => item.trim() !== '') : [value];
  for (const item of items) {
    const problem = itemProblem(option, item.trim());
    if (problem) return option.list ? `the list item ${JSON.stringify(item.trim())} ${problem}` : problem;
  }
  return undefined;
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)$/;

function itemProblem(option: FlinkOption, value: string): string | undefined {
  switch (option.type) {
    case 'Integer':
      return INT.test(value) && Number(value) >= -(2 ** 31) && Number(value) < 2 ** 31
        ? undefined
        : 'is not an integer';
    case 'Long':
      return INT.test(value) && BigInt(value) <= 2n ** 63n - 1n && BigInt(value) >= -(2n ** 63n)
        ? undefined
        : 'is not a whole number';
    case 'Double':
    case 'Float':
      return FLOAT.test(value) ? undefined : 'is not a number';
    case 'Boolean':
      return /^(true|false)$/i.test(value) ? undefined : 'is not true or false';
    case 'Duration':
      // Flink also reads ISO-8601 durations (PT1M) since 1.19.
      return parseDurationMs(value) !== undefined || /^P/i.test(value)
        ? undefined
        : 'is not a duration (e.g. 30 s, 5 min, 1 h)';
    case 'MemorySize':
      return parseFlinkMemorySize(value) !== undefined ? undefined : 'is not a memory size (e.g. 512m, 2g, 1024mb)';
    case 'enum':
      return option.enumValues!.some((v) => v.toUpperCase() === value.toUpperCase())
        ? undefined
        : `is not one of ${option.enumValues!.join(', ')}`;
    default:
      return undefined; // String, Map (entries Flink splits leniently) and other classes: anything reads
  }
}

/** Keys Flink reads that no jar of the catalogue declares: plugins', connectors', the table planner's, ours. */
const NOT_CATALOGUED = [
  'kubernetes.operator.', // the operator's registry checks these
  'job.autoscaler.',
  'metrics.reporter.',
  'table.',
  'sql-client.',
  'python.',
  'state.backend.rocksdb.',
  'state.backend.forst.',
  's3.',
  's3a.',
  'fs.',
  'gs.',
  'azure.',
  'containerized.master.env.',
  'containerized.taskmanager.env.',
  'plugin.',
];

export type KeyVerdict =
  | { kind: 'known'; option: FlinkOption }
  | { kind: 'deprecated-key'; option: FlinkOption }
  | { kind: 'unchecked' }
  | { kind: 'unknown'; nearest?: string };

/** What `key` is to this Flink; `suggest`: look for the known key an unknown one most likely means (a search). */
export function lookUp(catalogue: Catalogue, key: string, suggest = true): KeyVerdict {
  const option = catalogue.options.get(key);
  if (option) return { kind: 'known', option };
  const replacement = catalogue.replacedBy.get(key);
  if (replacement) return { kind: 'deprecated-key', option: replacement };
  if (
    NOT_CATALOGUED.some((p) => key.startsWith(p)) ||
    catalogue.prefixes.some((p) => key.startsWith(p)) ||
    catalogue.patterns.some((p) => p.test(key))
  )
    return { kind: 'unchecked' };
  const nearest = suggest ? nearestKey(catalogue, key) : undefined;
  return nearest ? { kind: 'unknown', nearest } : { kind: 'unknown' };
}

/** The known key within a few edits of `key` (a typo's distance), if one is. */
function nearestKey(catalogue: Catalogue, key: string): string | undefined {
  return nearestOf(catalogue.options.keys(), key);
}

/** The candidate within a few edits of `key` (a typo's distance), if one is. */
export function nearestOf(candidates: Iterable<string>, key: string): string | undefined {
  const limit = Math.max(2, Math.floor(key.length / 8));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - key.length) > limit) continue;
    const distance = editDistance(key, candidate, best ? Math.min(best.distance, limit) : limit);
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Levenshtein distance, giving up (returning more than `cap`) once every path costs more than `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      rowMin = Math.min(rowMin, current[j]!);
    }
    if (rowMin > cap) return cap + 1;
    previous = current;
  }
  return previous[b.length]!;
}
