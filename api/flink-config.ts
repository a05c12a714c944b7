// Flink configuration as the operator reads it: flattened keys, layered defaults, memory sizes.
import { parse } from 'yaml';
import { compareFlinkVersions } from './flink-versions.js';
import type { JsonValue } from './kubernetes-types.js';

export type FlatConfig = Readonly<Record<string, string>>;

/** Flattens nested configuration the way upstream's ConfigObjectNode does: `a: {b: 1}` → `a.b=1`, lists joined with `;`. */
export function flattenConfig(config: unknown): Record<string, string> {
  const flat: Record<string, string> = {};
  const visit = (value: unknown, prefix: string): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      flat[prefix] = value.map((v) => scalarText(v)).join(';');
    } else if (typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) visit(child, prefix ? `${prefix}.${key}` : key);
    } else if (prefix) {
      flat[prefix] = scalarText(value);
    }
  };
  visit(config, '');
  return flat;
}

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const NAMESPACE_PREFIX = 'kubernetes.operator.default-configuration.namespace.';
const VERSION_PREFIX = 'kubernetes.operator.default-configuration.flink-version.';

/**
 * The default configuration for one resource (upstream FlinkConfigManager#getDefaultConfig): the operator's
 * keys, then `…default-configuration.flink-version.<v>[+].<key>` in ascending version order, then
 * `…default-configuration.namespace.<ns>.<key>`.
 */
export function defaultConfigFor(
  operatorConfig: FlatConfig,
  namespace: string | undefined,
  flinkVersion: string | undefined,
): Record<string, string> {
  const base: Record<string, string> = {};
  const byVersion: { version: string; orLater: boolean; key: string; value: string }[] = [];
  const byNamespace: Record<string, string> = {};
  for (const [key, value] of Object.entries(operatorConfig)) {
    if (key.startsWith(VERSION_PREFIX)) {
      const match = /^(v\d+_\d+)(\+?)\.(.+)$/.exec(key.slice(VERSION_PREFIX.length));
      if (match) byVersion.push({ version: match[1]!, orLater: match[2] === '+', key: match[3]!, value });
    } else if (key.startsWith(NAMESPACE_PREFIX)) {
      const rest = key.slice(NAMESPACE_PREFIX.length);
      const dot = rest.indexOf('.');
      if (dot > 0 && namespace === rest.slice(0, dot)) byNamespace[rest.slice(dot + 1)] = value;
    } else {
      base[key] = value;
    }
  }
  if (flinkVersion) {
    byVersion
      .filter((v) => (v.orLater ? compareFlinkVersions(flinkVersion, v.version) >= 0 : v.version === flinkVersion))
      .sort((a, b) => compareFlinkVersions(a.version, b.version))
      .forEach((v) => (base[v.key] = v.value));
  }
  return { ...base, ...byNamespace };
}

/** The operator defaults overlaid with a resource's own `flinkConfiguration`. */
export function effectiveConfig(defaults: FlatConfig, ...overlays: JsonValue[]): Record<string, string> {
  return Object.assign({}, defaults, ...overlays.map((o) => flattenConfig(o)));
}

export function isBlank(value: string | undefined | null): boolean {
  return value === undefined || value === null || value.trim() === '';
}

/**
 * A key's value as Flink's ConfigOption#withDeprecatedKeys reads it: the key, else its older names in order; a key
 * present but blank hides the older names.
 */
export function withFallbacks(
  config: FlatConfig,
  key: string,
  deprecatedKeys: readonly string[] = [],
): string | undefined {
  for (const name of [key, ...deprecatedKeys]) if (config[name] !== undefined) return config[name];
  return undefined;
}

/**
 * Flink's HighAvailabilityMode.isHighAvailabilityModeActivated: `high-availability.type` (or its older names) names a
 * mode other than NONE — `standalone`, the old default, is NONE too.
 */
export function isHighAvailabilityEnabled(config: FlatConfig): boolean {
  const mode = (withFallbacks(config, 'high-availability.type', ['high-availability', 'recovery.mode']) ?? '')
    .trim()
    .toUpperCase();
  return mode !== '' && mode !== 'NONE' && mode !== 'STANDALONE';
}

export const CHECKPOINT_DIR_KEYS = ['execution.checkpointing.dir', 'state.checkpoints.dir'] as const;
export const SAVEPOINT_DIR_KEYS = ['execution.checkpointing.savepoint-dir', 'state.savepoints.dir'] as const;

/**
 * A directory as Flink reads its option: the key, else its deprecated names in order (a key present but blank hides
 * the older ones, as in withFallbacks); undefined when what Flink finds is blank, for that is no directory.
 */
export function directoryOption(config: FlatConfig, keys: readonly [string, ...string[]]): string | undefined {
  const value = withFallbacks(config, keys[0], keys.slice(1));
  return isBlank(value) ? undefined : value;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  bytes: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  kibibytes: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  mebibytes: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gibibytes: 2 ** 30,
  t: 2 ** 40,
  tb: 2 ** 40,
  tebibytes: 2 ** 40,
};

/** Flink's MemorySize.parse: whole number, optional binary unit (`2048m` is 2048 MiB). Undefined when not a MemorySize. */
export function parseFlinkMemorySize(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const unitName = match[2]!.toLowerCase();
  // Own keys only: `1constructor` must not find Object.prototype.constructor.
  return Object.hasOwn(MEMORY_UNITS, unitName) ? Number(match[1]) * MEMORY_UNITS[unitName]! : undefined;
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes resource.Quantity as a number (`1Gi`, `500m`, `1e3`); undefined when it does not parse. */
export function parseQuantity(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|([KMGTPE]i|[numkMGTPE])?)$/.exec(value.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  return number * QUANTITY_SUFFIXES[match[3] ?? '']!;
}

/**
 * Memory as upstream's ResourceConfigUtils reads it: a Flink MemorySize first, else a Kubernetes quantity after
 * normalising the spelling (`2gb` → `2G`, `1gib` → `1Gi`). Bytes, or undefined when neither reads it.
 */
export function parseMemory(value: string | number): number | undefined {
  if (typeof value === 'number') return parseQuantity(value);
  const flink = parseFlinkMemorySize(value);
  if (flink !== undefined) return flink;
  let text = value.trim().replace(/\s+/g, '').toUpperCase();
  if (text.endsWith('B')) text = text.slice(0, -1);
  if (text.endsWith('I')) text = `${text.slice(0, -1)}i`;
  return parseQuantity(text);
}

/** The operator's `--config` file: flat `key: value` YAML as Flink writes it (nested maps are flattened too). */
export function parseOperatorConfig(yamlText: string): Record<string, string> {
  const doc = parse(yamlText);
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new Error('the configuration must be a map of `key: value` lines');
  return flattenConfig(doc);
}

const DURATION_UNITS: [readonly string[], number][] = [
  [['ns', 'nano', 'nanos', 'nanosecond', 'nanoseconds'], 1e-6],
  [['us', 'µs', 'micro', 'micros', 'microsecond', 'microseconds'], 1e-3],
  [['', 'ms', 'milli', 'millis', 'millisecond', 'milliseconds'], 1],
  [['s', 'sec', 'secs', 'second', 'seconds'], 1000],
  [['m', 'min', 'mins', 'minute', 'minutes'], 60_000],
  [['h', 'hour', 'hours'], 3_600_000],
  [['d', 'day', 'days'], 86_400_000],
];

/**
 * How old Flink's REST answers about checkpoints may be: its statistics cache keeps them for
 * `rest.cache.checkpoint-statistics.timeout`, else `web.refresh-interval` (3 s). Capped at a minute, so no setting
 * holds an operator step for longer.
 */
export function checkpointStatsTtlMs(conf: FlatConfig): number {
  const text = conf['rest.cache.checkpoint-statistics.timeout'] ?? conf['web.refresh-interval'];
  return Math.min((text === undefined ? undefined : parseDurationMs(text)) ?? 3000, 60_000);
}

/** Flink's TimeUtils.parseDuration: `15 s`, `1 min`, `500ms`; a bare number is milliseconds. Undefined if unreadable. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([a-zµ]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = DURATION_UNITS.find(([names]) => names.includes(match[2]!.toLowerCase()));
  return unit ? Number(match[1]) * unit[1] : undefined;
}
