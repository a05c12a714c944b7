// What each `kubectl flink` verb decides, without I/O: which resource a name means, the merge patch a verb makes on
// `.spec` (never on status), the spec a rollback writes back, and how a savepoint is asked for.
import { autoscalerConfig } from '../autoscaler/options.js';
import { OVERRIDES_KEY } from '../autoscaler/state.js';
import { readSpecEnvelope } from '../spec-envelope.js';
import { newSnapshotResource } from '../reconcile/state-snapshot.js';
import { asObject, asString, type Json } from '../validation/access.js';
import { option, OPTIONS } from '../operator-options.js';
import { effectiveConfig, flattenConfig, type FlatConfig } from '../flink-config.js';
import type { JsonValue } from '../kubernetes-types.js';

export type FlinkKind = 'FlinkDeployment' | 'FlinkSessionJob';

/** A name as the user typed it: `NAME` (FlinkDeployment first, then FlinkSessionJob), `deployment/NAME`, `sessionjob/NAME`. */
export interface TargetName {
  kinds: FlinkKind[];
  name: string;
}

const KIND_WORDS: Record<string, FlinkKind> = {
  deployment: 'FlinkDeployment',
  flinkdeployment: 'FlinkDeployment',
  flinkdeployments: 'FlinkDeployment',
  flinkdep: 'FlinkDeployment',
  sessionjob: 'FlinkSessionJob',
  flinksessionjob: 'FlinkSessionJob',
  flinksessionjobs: 'FlinkSessionJob',
};

/** The resource a name means, or why it means none. */
export function parseTargetName(text: string): TargetName | string {
  const slash = text.indexOf('/');
  if (slash < 0)
    return text ? { kinds: ['FlinkDeployment', 'FlinkSessionJob'], name: text } : 'a resource name is required';
  const kind = KIND_WORDS[text.slice(0, slash).toLowerCase()];
  const name = text.slice(slash + 1);
  if (!kind) return `"${text.slice(0, slash)}" is not a kind here: use deployment/NAME or sessionjob/NAME`;
  return name ? { kinds: [kind], name } : `no name after "${text.slice(0, slash + 1)}"`;
}

/** The closest of `names` to `name`, when one is close enough to be what the user meant. */
export function didYouMean(name: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(name, candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  const close =
    best &&
    (best.distance <= Math.max(2, Math.floor(name.length / 3)) ||
      best.name.startsWith(name) ||
      name.startsWith(best.name));
  return close ? best!.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** A merge patch on `.spec`, or why the verb does not apply to this resource. */
export type SpecPatch = { patch: Json; change: string } | { refused: string };

export function jobStatePatch(resource: Json, state: 'running' | 'suspended'): SpecPatch {
  const job = asObject(asObject(resource.spec)?.job);
  const what = describe(resource);
  if (!job)
    return {
      refused: `${what} is a session cluster: it has no job to ${state === 'suspended' ? 'suspend' : 'resume'} (its FlinkSessionJobs do)`,
    };
  if ((job.state ?? 'running') === state)
    return { refused: `${what} is already ${state === 'suspended' ? 'suspended' : 'running'}` };
  return { patch: { spec: { job: { state } } }, change: state === 'suspended' ? 'suspended' : 'resumed' };
}

/** `spec.restartNonce` bumped: the cluster (or the session job) is restarted as it is. */
export function restartPatch(resource: Json, now: number): SpecPatch {
  const current = asObject(resource.spec)?.restartNonce;
  const next = typeof current === 'number' && current >= now ? current + 1 : now;
  return { patch: { spec: { restartNonce: next } }, change: 'restarted' };
}

/** What `rollback` writes back: the last stable spec as `.spec`, or why there is nothing to roll back to. */
export type RollbackPlan = { spec: Json; changedPaths: string[] } | { refused: string };

export function rollbackPlan(resource: Json): RollbackPlan {
  const what = describe(resource);
  const status = asObject(resource.status);
  const stable = readSpecEnvelope(asObject(status?.reconciliationStatus)?.lastStableSpec);
  if (!stable)
    return {
      refused: `${what} has no last stable spec yet: it has never been STABLE, so there is nothing to roll back to`,
    };
  const spec = structuredClone(stable.spec);
  // The recorded spec carries the job state the operator was in; running or suspended stays the user's choice.
  const job = asObject(spec.job);
  if (job) job.state = asObject(asObject(resource.spec)?.job)?.state ?? 'running';
  keepOwnOverrides(spec, asObject(resource.spec) ?? {});
  const changedPaths = diffPaths(asObject(resource.spec) ?? {}, spec, 'spec');
  if (changedPaths.length === 0) return { refused: `${what} already runs its last stable spec: nothing to roll back` };
  return { spec, changedPaths };
}

/**
 * The parallelism overrides the autoscaler merged into the recorded spec are its own, not the user's: a rollback
 * writes back the user's (or none), or the user's spec would pin what the autoscaler chose.
 */
function keepOwnOverrides(spec: Json, current: Json): void {
  const conf = asObject(spec.flinkConfiguration);
  if (!conf || !autoscalerConfig(flattenConfig(conf)).enabled) return;
  const own = flattenConfig(current.flinkConfiguration)[OVERRIDES_KEY];
  if (own === undefined) delete conf[OVERRIDES_KEY];
  else conf[OVERRIDES_KEY] = own;
}

/** The paths where two JSON values differ, leaf by leaf (arrays compared whole). */
export function diffPaths(before: unknown, after: unknown, path: string): string[] {
  const a = asObject(before);
  const b = asObject(after);
  if (!a || !b) return JSON.stringify(before) === JSON.stringify(after) ? [] : [path];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((k) =>
    diffPaths(a[k], b[k], /^[A-Za-z_][\w-]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`),
  );
}

/** How a savepoint is asked for: a FlinkStateSnapshot (the default), or the nonce where snapshot resources are off. */
export type SavepointRequest = { snapshot: Json } | { patch: Json };

export function savepointRequest(
  resource: Json,
  operatorConfig: FlatConfig,
  now: number,
): SavepointRequest | { refused: string } {
  const spec = asObject(resource.spec);
  const job = asObject(spec?.job);
  const metadata = asObject(resource.metadata) ?? {};
  const name = asString(metadata.name) ?? '';
  if (!job)
    return { refused: `${describe(resource)} is a session cluster: savepoints are taken of its FlinkSessionJobs` };
  const config = effectiveConfig(operatorConfig, (spec?.flinkConfiguration ?? {}) as JsonValue);
  if (!option(config, OPTIONS.snapshotResourceEnabled)) {
    const current = job.savepointTriggerNonce;
    return {
      patch: {
        spec: { job: { savepointTriggerNonce: typeof current === 'number' && current >= now ? current + 1 : now } },
      },
    };
  }
  // The same resource the operator makes for a manual trigger: owned by the job, so it goes when the job does.
  const owner = {
    kind: asString(resource.kind) === 'FlinkSessionJob' ? ('FlinkSessionJob' as const) : ('FlinkDeployment' as const),
    name,
    namespace: asString(metadata.namespace) ?? '',
    uid: asString(metadata.uid) ?? '',
  };
  return {
    snapshot: newSnapshotResource(owner, { snapshot: 'savepoint', triggerType: 'MANUAL', disposeOnDelete: true }, now),
  };
}

export const describe = (resource: Json): string =>
  `${asString(resource.kind) ?? 'FlinkDeployment'} ${JSON.stringify(asString(asObject(resource.metadata)?.name) ?? '')}`;
