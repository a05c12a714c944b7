// What kind of change separates two specs (upstream's @SpecDiff annotations and ReflectiveDiffBuilder, notes §1.2):
// the overall type is the largest over every changed field, IGNORE < SCALE < UPGRADE < SAVEPOINT_REDEPLOY.
import { flattenConfig } from '../flink-config.js';
import { canonicalJson } from '../spec-envelope.js';
import { asObject, type Json } from '../validation/access.js';

export const DIFF_TYPES = ['IGNORE', 'SCALE', 'UPGRADE', 'SAVEPOINT_REDEPLOY'] as const;
export type DiffType = (typeof DIFF_TYPES)[number];

export interface SpecDiff {
  type: DiffType;
  /** Each changed field with its type, e.g. `spec.job.parallelism` → UPGRADE; in field order. */
  changes: { field: string; type: DiffType }[];
}

type Mode = 'native' | 'standalone';

const JOB_IGNORED = [
  'savepointTriggerNonce',
  'initialSavepointPath',
  'checkpointTriggerNonce',
  'upgradeMode',
  'allowNonRestoredState',
  'autoscalerResetNonce',
];
const CONFIG_RULES: { prefix: string; type: (mode: Mode) => DiffType }[] = [
  { prefix: 'job.autoscaler', type: () => 'IGNORE' },
  { prefix: 'parallelism.default', type: () => 'IGNORE' },
  { prefix: 'kubernetes.operator', type: () => 'IGNORE' },
  { prefix: 'pipeline.jobvertex-parallelism-overrides', type: (mode) => (mode === 'native' ? 'SCALE' : 'UPGRADE') },
];

export function diffSpecs(before: Json, after: Json): SpecDiff {
  const mode: Mode = after.mode === 'standalone' ? 'standalone' : 'native';
  const changes: SpecDiff['changes'] = [];
  const record = (field: string, type: DiffType) => changes.push({ field, type });
  const differs = (a: unknown, b: unknown) => canonicalJson(a ?? null) !== canonicalJson(b ?? null);

  for (const key of unionKeys(before, after)) {
    const a = before[key];
    const b = after[key];
    if (!differs(a, b)) continue;
    const field = `spec.${key}`;
    if (key === 'restartNonce') {
      if (b !== undefined && b !== null) record(field, 'UPGRADE');
    } else if (key === 'flinkConfiguration') {
      diffConfiguration(a, b, mode, record);
    } else if (key === 'job' && asObject(a) && asObject(b)) {
      diffJob(asObject(a)!, asObject(b)!, mode, record);
    } else if (key === 'taskManager' && asObject(a) && asObject(b)) {
      for (const tmKey of unionKeys(asObject(a)!, asObject(b)!)) {
        if (!differs(asObject(a)![tmKey], asObject(b)![tmKey])) continue;
        record(`${field}.${tmKey}`, tmKey === 'replicas' && mode === 'standalone' ? 'SCALE' : 'UPGRADE');
      }
    } else {
      record(field, 'UPGRADE');
    }
  }
  const type = changes.reduce<DiffType>(
    (max, c) => (DIFF_TYPES.indexOf(c.type) > DIFF_TYPES.indexOf(max) ? c.type : max),
    'IGNORE',
  );
  return { type, changes };
}

function diffJob(a: Json, b: Json, mode: Mode, record: (field: string, type: DiffType) => void): void {
  for (const key of unionKeys(a, b)) {
    if (canonicalJson(a[key] ?? null) === canonicalJson(b[key] ?? null)) continue;
    const field = `spec.job.${key}`;
    if (JOB_IGNORED.includes(key)) record(field, 'IGNORE');
    else if (key === 'savepointRedeployNonce')
      record(field, b[key] === undefined || b[key] === null ? 'IGNORE' : 'SAVEPOINT_REDEPLOY');
    else if (key === 'parallelism') record(field, mode === 'standalone' ? 'SCALE' : 'UPGRADE');
    // A missing `args` and an empty one are the same job.
    else if (key === 'args' && (a[key] ?? []).toString() === '' && (b[key] ?? []).toString() === '') continue;
    else record(field, 'UPGRADE');
  }
}

function diffConfiguration(a: unknown, b: unknown, mode: Mode, record: (field: string, type: DiffType) => void): void {
  const before = flattenConfig(a);
  const after = flattenConfig(b);
  for (const key of unionKeys(before, after)) {
    if (before[key] === after[key]) continue;
    const rule = CONFIG_RULES.find((r) => key.startsWith(r.prefix));
    record(`spec.flinkConfiguration["${key}"]`, rule ? rule.type(mode) : 'UPGRADE');
  }
}

function unionKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}
