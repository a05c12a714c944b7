// What the autoscaler keeps between cycles, in the ConfigMap `autoscaler-<name>` under upstream's keys and formats
// (KubernetesAutoScalerStateStore, reference §3), so that a job moved from the upstream operator keeps its
// overrides and history: `parallelismOverrides` as `vid:p,vid:p`; `collectedMetrics` and `scalingHistory` as
// gzip + base64 YAML keyed by instant; `delayedScaleDown` as YAML. A key that does not read is dropped, not fatal;
// what is read is bounded (20 MB unpacked), and what is written is trimmed to fit a ConfigMap.
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse, stringify } from 'yaml';
import type { AutoscalerHistory, DelayedScaleDown, ScalingHistory, ScalingSummary } from './decide.js';
import type { Sample } from './sample.js';

export interface AutoscalerState {
  /** The window's samples, oldest first. */
  samples: Sample[];
  history: AutoscalerHistory;
  /** Vertex id → the parallelism the autoscaler set. */
  overrides: Record<string, number>;
  /** Each rescale (epoch ms) and, once measured, how long the job took to run again at it (ms). */
  tracking: { time: number; restartDuration?: number }[];
}

export const emptyState = (): AutoscalerState => ({
  samples: [],
  history: { scalingHistory: {}, delayedScaleDown: {} },
  overrides: {},
  tracking: [],
});

export const KEYS = {
  collectedMetrics: 'collectedMetrics',
  scalingHistory: 'scalingHistory',
  scalingTracking: 'scalingTracking',
  parallelismOverrides: 'parallelismOverrides',
  delayedScaleDown: 'delayedScaleDown',
} as const;

/** Upstream trims its history once the serialized state passes this many characters. */
export const MAX_STATE_CHARS = 1_000_000;
const MAX_UNPACKED_BYTES = 20 * 2 ** 20;

export const stateConfigMapName = (resourceName: string): string => `autoscaler-${resourceName}`;

/** Flink's key for per-vertex parallelism, where the autoscaler's overrides reach the job. */
export const OVERRIDES_KEY = 'pipeline.jobvertex-parallelism-overrides';

/** `a:2,b:4` ↔ {a: 2, b: 4}: the format of `pipeline.jobvertex-parallelism-overrides` and upstream's key. */
export function parseOverrides(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of (text ?? '').split(',')) {
    const [id, p] = entry.split(':').map((s) => s.trim());
    if (id && p && /^\d+$/.test(p) && Number(p) > 0) out[id] = Number(p);
  }
  return out;
}

export const formatOverrides = (overrides: Record<string, number>): string =>
  Object.keys(overrides)
    .sort()
    .map((id) => `${id}:${overrides[id]}`)
    .join(',');

/**
 * Written as JSON, which is YAML (upstream's YAML mapper reads it, and Jackson reads "Infinity" and "NaN" as
 * doubles); read as JSON first, as YAML when upstream wrote it. A YAML parse of a full window took 20 ms of event
 * loop, JSON's 1.
 */
const SPECIAL = new Map<string, number>([
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['NaN', NaN],
]);
const toText = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
const pack = (value: unknown): string => gzipSync(Buffer.from(toText(value), 'utf8')).toString('base64');
function unpack(text: string): unknown {
  const unpacked = gunzipSync(Buffer.from(text, 'base64'), { maxOutputLength: MAX_UNPACKED_BYTES }).toString('utf8');
  try {
    return JSON.parse(unpacked, (_k, v: unknown) => (typeof v === 'string' && SPECIAL.has(v) ? SPECIAL.get(v) : v));
  } catch {
    return parse(unpacked);
  }
}

/** An instant as upstream's YAML writes a map key (ISO-8601), or as decimal epoch seconds; epoch ms either way. */
function instant(key: unknown): number {
  if (typeof key === 'number') return key > 1e11 ? key : key * 1000;
  const n = Number(key);
  if (Number.isFinite(n)) return n > 1e11 ? n : n * 1000;
  return Date.parse(String(key));
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A duration as Jackson writes one (decimal seconds) or as ISO-8601 (`PT12.5S`), in ms. */
function seconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value * 1000;
  const iso8601 = typeof value === 'string' ? /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(value) : null;
  if (iso8601) return ((Number(iso8601[1] ?? 0) * 60 + Number(iso8601[2] ?? 0)) * 60 + Number(iso8601[3] ?? 0)) * 1000;
  const n = typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n * 1000 : undefined;
}

export function encodeState(state: AutoscalerState): Record<string, string> {
  const history = Object.fromEntries(
    Object.entries(state.history.scalingHistory).map(([vid, entries]) => [
      vid,
      Object.fromEntries(Object.entries(entries).map(([t, s]) => [iso(Number(t)), s])),
    ]),
  );
  const delayed = {
    delayedVertices: Object.fromEntries(
      Object.entries(state.history.delayedScaleDown).map(([vid, d]) => [
        vid,
        {
          firstTriggerTime: iso(d.firstTriggerTime),
          recommendedParallelisms: d.recommendedParallelisms.map((r) => ({ ...r, triggerTime: iso(r.triggerTime) })),
        },
      ]),
    ),
  };
  const tracking = {
    scalingRecords: Object.fromEntries(
      state.tracking.map((r) => [
        iso(r.time),
        r.restartDuration === undefined ? {} : { restartDuration: r.restartDuration / 1000 },
      ]),
    ),
  };
  const data: Record<string, string> = {
    [KEYS.scalingHistory]: pack(history),
    [KEYS.scalingTracking]: pack(tracking),
    [KEYS.parallelismOverrides]: formatOverrides(state.overrides),
    [KEYS.delayedScaleDown]: stringify(delayed),
  };
  // The newest samples matter most: the oldest go first when the whole would not fit.
  let samples = state.samples;
  for (;;) {
    const metrics = pack(Object.fromEntries(samples.map((s) => [iso(s.time), sampleBody(s)])));
    const size = Object.values(data).reduce((n, v) => n + v.length, metrics.length);
    if (size <= MAX_STATE_CHARS || samples.length === 0) return { ...data, [KEYS.collectedMetrics]: metrics };
    samples = samples.slice(Math.ceil(samples.length / 4));
  }
}

const sampleBody = (s: Sample) => ({ vertexMetrics: s.vertexMetrics, globalMetrics: s.globalMetrics });

/** The state a ConfigMap's data holds, and what of it could not be read (each key on its own). */
export function decodeState(data: Record<string, string> | undefined): { state: AutoscalerState; unread: string[] } {
  const state = emptyState();
  const unread: string[] = [];
  const read = (key: string, use: (text: string) => void) => {
    const text = data?.[key];
    if (text === undefined || text === '') return;
    try {
      use(text);
    } catch (err) {
      unread.push(`${key}: ${(err as Error).message}`);
    }
  };
  read(KEYS.parallelismOverrides, (t) => (state.overrides = parseOverrides(t)));
  read(KEYS.collectedMetrics, (t) => {
    const map = (unpack(t) ?? {}) as Record<
      string,
      { vertexMetrics?: Sample['vertexMetrics']; globalMetrics?: Sample['globalMetrics'] }
    >;
    state.samples = Object.entries(map)
      .map(([time, body]) => ({
        time: instant(time),
        vertexMetrics: body?.vertexMetrics ?? {},
        globalMetrics: body?.globalMetrics ?? {},
      }))
      .filter((s) => Number.isFinite(s.time))
      .sort((a, b) => a.time - b.time);
  });
  read(KEYS.scalingHistory, (t) => {
    const map = (unpack(t) ?? {}) as Record<string, Record<string, ScalingSummary>>;
    const history: ScalingHistory = {};
    for (const [vid, entries] of Object.entries(map))
      history[vid] = Object.fromEntries(Object.entries(entries ?? {}).map(([time, s]) => [instant(time), s]));
    state.history.scalingHistory = history;
  });
  read(KEYS.scalingTracking, (t) => {
    const doc = (unpack(t) ?? {}) as { scalingRecords?: Record<string, { restartDuration?: unknown } | null> };
    state.tracking = Object.entries(doc.scalingRecords ?? {})
      .map(([time, r]) => {
        const restartDuration = seconds(r?.restartDuration);
        return { time: instant(time), ...(restartDuration !== undefined ? { restartDuration } : {}) };
      })
      .sort((a, b) => a.time - b.time);
  });
  read(KEYS.delayedScaleDown, (t) => {
    const doc = (parse(t) ?? {}) as {
      delayedVertices?: Record<
        string,
        {
          firstTriggerTime: unknown;
          recommendedParallelisms?: { triggerTime: unknown; parallelism: number; outsideUtilizationBound: boolean }[];
        }
      >;
    };
    const delayed: Record<string, DelayedScaleDown> = {};
    for (const [vid, d] of Object.entries(doc.delayedVertices ?? {}))
      delayed[vid] = {
        firstTriggerTime: instant(d.firstTriggerTime),
        recommendedParallelisms: (d.recommendedParallelisms ?? []).map((r) => ({
          ...r,
          triggerTime: instant(r.triggerTime),
        })),
      };
    state.history.delayedScaleDown = delayed;
  });
  return { state, unread };
}
