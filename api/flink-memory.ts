// Flink's process memory model (ProcessMemoryUtils with the JobManager and TaskExecutor FlinkMemoryUtils): from the
// memory keys of a configuration, the total process size Flink would run with, or the reason it would refuse to
// start. The webhook rejects what Flink would refuse and the reconciler sizes the pods with the same number.
// Bytes are bigints: Flink's MemorySize is a long and its overflow is an error, not a rounding.
import { parseFlinkMemorySize, type FlatConfig } from './flink-config.js';
import { shown } from './validation/field-error.js';

export type MemoryComponent = 'jobmanager' | 'taskmanager';

/** `unset`: no memory key names a size at all, as opposed to keys Flink cannot reconcile. */
export type ProcessMemory = { ok: true; processBytes: bigint } | { ok: false; problem: string; unset: boolean };

const MAX_LONG = 2n ** 63n - 1n;
const MiB = 2n ** 20n;

class MemoryConfigError extends Error {}
class MemoryUnsetError extends MemoryConfigError {}

interface MemoryOption {
  key: string;
  deprecated?: readonly string[];
  fallback?: bigint;
}

const option = (key: string, fallback?: bigint, deprecated?: readonly string[]): MemoryOption => ({
  key,
  fallback,
  deprecated,
});

/** The keys of one process (TaskManagerOptions / JobManagerOptions), defaults as Flink declares them. */
const jvmOptions = (prefix: MemoryComponent) => ({
  process: option(`${prefix}.memory.process.size`),
  flink: option(`${prefix}.memory.flink.size`),
  metaspace: option(`${prefix}.memory.jvm-metaspace.size`, 256n * MiB),
  overheadMin: option(`${prefix}.memory.jvm-overhead.min`, 192n * MiB),
  overheadMax: option(`${prefix}.memory.jvm-overhead.max`, 1024n * MiB),
  overheadFraction: `${prefix}.memory.jvm-overhead.fraction`,
});

const TM = {
  ...jvmOptions('taskmanager'),
  taskHeap: option('taskmanager.memory.task.heap.size'),
  managed: option('taskmanager.memory.managed.size', undefined, ['taskmanager.memory.size']),
  managedFraction: {
    key: 'taskmanager.memory.managed.fraction',
    deprecated: ['taskmanager.memory.fraction'],
    fallback: 0.4,
  },
  frameworkHeap: option('taskmanager.memory.framework.heap.size', 128n * MiB),
  frameworkOffHeap: option('taskmanager.memory.framework.off-heap.size', 128n * MiB),
  taskOffHeap: option('taskmanager.memory.task.off-heap.size', 0n),
  networkMin: option('taskmanager.memory.network.min', 64n * MiB, ['taskmanager.network.memory.min']),
  networkMax: option('taskmanager.memory.network.max', 1024n * MiB, ['taskmanager.network.memory.max']),
  networkFraction: {
    key: 'taskmanager.memory.network.fraction',
    deprecated: ['taskmanager.network.memory.fraction'],
    fallback: 0.1,
  },
  legacyBuffers: 'taskmanager.network.numberOfBuffers',
  segmentSize: option('taskmanager.memory.segment-size', 32n * 1024n),
  legacyHeap: ['taskmanager.heap.size', 'taskmanager.heap.mb'],
} as const;

const JM = {
  ...jvmOptions('jobmanager'),
  heap: option('jobmanager.memory.heap.size'),
  offHeap: option('jobmanager.memory.off-heap.size', 128n * MiB),
  legacyHeap: ['jobmanager.heap.size', 'jobmanager.heap.mb'],
} as const;

/** The process size Flink derives for the component, or why it cannot. */
export function deriveProcessMemory(config: FlatConfig, component: MemoryComponent): ProcessMemory {
  try {
    const reader = new MemoryReader(withLegacyHeap(config, component));
    return {
      ok: true,
      processBytes: component === 'taskmanager' ? taskManagerProcess(reader) : jobManagerProcess(reader),
    };
  } catch (error) {
    if (error instanceof MemoryConfigError)
      return { ok: false, problem: error.message, unset: error instanceof MemoryUnsetError };
    throw error;
  }
}

/** Flink's legacy heap keys stand in for the new option only when the new option is absent (MemoryBackwardsCompatibilityUtils). */
function withLegacyHeap(config: FlatConfig, component: MemoryComponent): FlatConfig {
  const target = component === 'taskmanager' ? TM.process.key : JM.heap.key;
  if (config[target] !== undefined) return config;
  const [sizeKey, mbKey] = component === 'taskmanager' ? TM.legacyHeap : JM.legacyHeap;
  if (config[sizeKey] !== undefined) return { ...config, [target]: config[sizeKey] };
  if (config[mbKey] !== undefined) return { ...config, [target]: `${config[mbKey].trim()}m` };
  return config;
}

/** Configuration#contains / #get for memory and fraction options, deprecated names included. */
class MemoryReader {
  constructor(private readonly config: FlatConfig) {}

  private raw(o: { key: string; deprecated?: readonly string[] }): [string, string] | undefined {
    for (const name of [o.key, ...(o.deprecated ?? [])])
      if (this.config[name] !== undefined) return [name, this.config[name]];
    return undefined;
  }

  has(o: { key: string; deprecated?: readonly string[] }): boolean {
    return this.raw(o) !== undefined;
  }

  size(o: MemoryOption): bigint {
    const found = this.raw(o);
    if (!found) {
      if (o.fallback === undefined) throw new MemoryConfigError(`${o.key} is not set and has no default`);
      return o.fallback;
    }
    const bytes = parseMemoryBytes(found[1]);
    if (bytes === undefined)
      throw new MemoryConfigError(`${found[0]}: ${shown(found[1])} is not a memory size Flink can read`);
    return bytes;
  }

  fraction(o: { key: string; deprecated?: readonly string[]; fallback: number }): number {
    const found = this.raw(o);
    if (!found) return Math.fround(o.fallback);
    // Float.parseFloat: a decimal, optionally with an exponent and a float/double suffix.
    const match = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?\s*$/.exec(found[1]);
    if (!match) throw new MemoryConfigError(`${found[0]}: ${shown(found[1])} is not a number`);
    return Math.fround(Number(match[1]));
  }

  integer(key: string): bigint | undefined {
    const value = this.config[key];
    if (value === undefined) return undefined;
    if (!/^\s*[+-]?\d+\s*$/.test(value)) throw new MemoryConfigError(`${key}: ${shown(value)} is not an integer`);
    return BigInt(value.trim());
  }
}

/** MemorySize.parse with its 0..Long.MAX_VALUE bounds, exactly. */
function parseMemoryBytes(text: string): bigint | undefined {
  if (parseFlinkMemorySize(text) === undefined) return undefined;
  const [, digits, unit] = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text)!;
  const multiplier = BigInt(parseFlinkMemorySize(`1${unit}`)!);
  const bytes = BigInt(digits!) * multiplier;
  return bytes > MAX_LONG ? undefined : bytes;
}

interface RangeFraction {
  min: bigint;
  max: bigint;
  fraction: number;
  what: string;
}

function rangeFraction(what: string, min: bigint, max: bigint, fraction: number): RangeFraction {
  if (min > max || !(fraction >= 0 && fraction <= 1)) {
    throw new MemoryConfigError(
      `${what}: fraction ${fraction} with min ${human(min)} and max ${human(max)} is inconsistent`,
    );
  }
  return { min, max, fraction, what };
}

/** MemorySize#multiply: BigDecimal.valueOf(double) times the bytes, truncated. */
function multiply(bytes: bigint, factor: number): bigint {
  const [mantissa = '0', exponent = '0'] = factor.toExponential().split('e');
  const [whole = '0', decimals = ''] = mantissa.split('.');
  const scale = decimals.length - Number(exponent);
  const digits = BigInt(whole + decimals);
  const product = scale >= 0 ? (bytes * digits) / 10n ** BigInt(scale) : bytes * digits * 10n ** BigInt(-scale);
  if (product > MAX_LONG) throw new MemoryConfigError('a derived memory size overflows 2^63-1 bytes');
  return product;
}

function sum(...sizes: bigint[]): bigint {
  const total = sizes.reduce((a, b) => a + b, 0n);
  if (total > MAX_LONG) throw new MemoryConfigError('the configured memory sizes add up past 2^63-1 bytes');
  return total;
}

const capped = (size: bigint, range: RangeFraction) =>
  size > range.max ? range.max : size < range.min ? range.min : size;
const withFraction = (base: bigint, range: RangeFraction) => capped(multiply(base, range.fraction), range);
function withInverseFraction(base: bigint, range: RangeFraction): bigint {
  if (range.fraction >= 1) throw new MemoryConfigError(`${range.what}: fraction must be below 1`);
  return capped(multiply(base, range.fraction / (1 - range.fraction)), range);
}

function human(bytes: bigint): string {
  for (const [unit, size] of [
    ['gb', 2n ** 30n],
    ['mb', MiB],
    ['kb', 1024n],
  ] as const)
    if (bytes >= size && bytes % size === 0n) return `${bytes / size}${unit}`;
  return `${bytes} bytes`;
}

type JvmOptions = ReturnType<typeof jvmOptions>;

const overheadRange = (r: MemoryReader, o: JvmOptions) =>
  rangeFraction(
    'JVM overhead',
    r.size(o.overheadMin),
    r.size(o.overheadMax),
    r.fraction({ key: o.overheadFraction, fallback: 0.1 }),
  );

/**
 * ProcessMemoryUtils#memoryProcessSpecFromConfig: fine-grained options first, then the total Flink memory, then the
 * total process memory. `fromFlink` splits a total Flink memory into the process's own parts (and checks them).
 */
function processSize(
  r: MemoryReader,
  o: JvmOptions,
  fineGrained: () => bigint | undefined,
  fromFlink: (total: bigint) => void,
): bigint {
  const explicitFlink = fineGrained();
  if (explicitFlink !== undefined) return processFromFlink(r, o, explicitFlink);
  if (r.has(o.flink)) {
    const total = r.size(o.flink);
    fromFlink(total);
    return processFromFlink(r, o, total);
  }
  if (r.has(o.process)) {
    const process = r.size(o.process);
    const metaspace = r.size(o.metaspace);
    const overhead = withFraction(process, overheadRange(r, o));
    if (metaspace + overhead > process) {
      throw new MemoryConfigError(
        `JVM metaspace (${human(metaspace)}) and JVM overhead (${human(overhead)}) exceed the total process memory ${o.process.key} (${human(process)})`,
      );
    }
    fromFlink(process - metaspace - overhead);
    return process;
  }
  throw new MemoryUnsetError(`none of ${o.process.key}, ${o.flink.key} or the fine-grained heap sizes is set`);
}

function processFromFlink(r: MemoryReader, o: JvmOptions, flink: bigint): bigint {
  const flinkAndMetaspace = sum(flink, r.size(o.metaspace));
  const range = overheadRange(r, o);
  if (r.has(o.process)) {
    const process = r.size(o.process);
    const overhead = process - flinkAndMetaspace;
    if (overhead < range.min || overhead > range.max) {
      throw new MemoryConfigError(
        `the JVM overhead left by ${o.process.key} (${human(process)}) is ${overhead < 0n ? 'negative' : human(overhead)}, outside [${human(range.min)}, ${human(range.max)}]`,
      );
    }
    return process;
  }
  return sum(flinkAndMetaspace, withInverseFraction(flinkAndMetaspace, range));
}

function jobManagerProcess(r: MemoryReader): bigint {
  const fineGrained = () => {
    if (!r.has(JM.heap)) return undefined;
    const total = sum(r.size(JM.heap), r.size(JM.offHeap));
    if (r.has(JM.flink) && r.size(JM.flink) !== total) {
      throw new MemoryConfigError(
        `${JM.heap.key} plus ${JM.offHeap.key} (${human(total)}) differ from ${JM.flink.key} (${human(r.size(JM.flink))})`,
      );
    }
    return total;
  };
  return processSize(r, JM, fineGrained, (flink) => {
    const offHeap = r.size(JM.offHeap);
    if (flink <= offHeap)
      throw new MemoryConfigError(
        `the total Flink memory (${human(flink)}) is not more than ${JM.offHeap.key} (${human(offHeap)})`,
      );
  });
}

function taskManagerProcess(r: MemoryReader): bigint {
  const frameworkAndTaskOffHeap = () =>
    sum(r.size(TM.frameworkHeap), r.size(TM.frameworkOffHeap), r.size(TM.taskOffHeap));
  const managedFrom = (flink: bigint) =>
    r.has(TM.managed)
      ? r.size(TM.managed)
      : withFraction(flink, rangeFraction('managed memory', 0n, MAX_LONG, r.fraction(TM.managedFraction)));

  const fineGrained = () => {
    if (!r.has(TM.taskHeap) || !r.has(TM.managed)) return undefined;
    const withoutNetwork = sum(frameworkAndTaskOffHeap(), r.size(TM.taskHeap), r.size(TM.managed));
    if (r.has(TM.flink)) return networkIsRest(r, r.size(TM.flink), withoutNetwork);
    const network = legacyNetwork(r) ?? withInverseFraction(withoutNetwork, networkRange(r));
    return sum(withoutNetwork, network);
  };
  return processSize(r, TM, fineGrained, (flink) => {
    if (r.has(TM.taskHeap)) {
      networkIsRest(r, flink, sum(frameworkAndTaskOffHeap(), r.size(TM.taskHeap), managedFrom(flink)));
      return;
    }
    const withoutTaskHeap = sum(
      frameworkAndTaskOffHeap(),
      managedFrom(flink),
      legacyNetwork(r) ?? withFraction(flink, networkRange(r)),
    );
    if (withoutTaskHeap > flink) {
      throw new MemoryConfigError(
        `framework, task off-heap, managed and network memory (${human(withoutTaskHeap)}) exceed the total Flink memory (${human(flink)})`,
      );
    }
  });
}

const networkRange = (r: MemoryReader) =>
  rangeFraction('network memory', r.size(TM.networkMin), r.size(TM.networkMax), r.fraction(TM.networkFraction));

/** The legacy buffer count sizes the network only when none of the new network keys is set. */
function legacyNetwork(r: MemoryReader): bigint | undefined {
  if (r.has(TM.networkMin) || r.has(TM.networkMax) || r.has(TM.networkFraction)) return undefined;
  const buffers = r.integer(TM.legacyBuffers);
  return buffers === undefined ? undefined : buffers * r.size(TM.segmentSize);
}

/** With the total Flink memory and the heap fixed, the network gets the rest, which must fit its own range. */
function networkIsRest(r: MemoryReader, flink: bigint, withoutNetwork: bigint): bigint {
  if (withoutNetwork > flink) {
    throw new MemoryConfigError(
      `framework, task heap, task off-heap and managed memory (${human(withoutNetwork)}) exceed ${TM.flink.key} (${human(flink)})`,
    );
  }
  const network = flink - withoutNetwork;
  const legacy = legacyNetwork(r);
  if (legacy !== undefined ? network !== legacy : network < networkRange(r).min || network > networkRange(r).max) {
    throw new MemoryConfigError(
      `the network memory left by ${TM.flink.key} (${human(network)}) is outside its configured range`,
    );
  }
  return flink;
}
