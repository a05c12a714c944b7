// What the mutating webhook fills in (SPEC §2): only what is absent, never a user's value.
import { FLINK_DEPLOYMENT, FLINK_STATE_SNAPSHOT, type KindInfo } from './schema/crd.js';
import { asObject, type Json } from './validation/access.js';

export const CANARY_LABEL = 'flink.apache.org/canary';
export const TARGET_SESSION_LABEL = 'target.session';
/** A Kubernetes label value: at most 63 characters, alphanumeric at both ends, `-`, `_` and `.` between. */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export function isCanary(resource: unknown): boolean {
  return asObject(asObject(asObject(resource)?.metadata)?.labels)?.[CANARY_LABEL] === 'true';
}

/**
 * A defaulted copy; the input is left untouched. Copy-on-write: only the objects that gain a default are copied, the
 * rest (a pod template, the Flink configuration) is shared with the input, so diffing the two for the patch visits
 * only what changed. Sections of the wrong type are left for validation to report.
 */
export function withDefaults(kind: KindInfo, resource: Json): Json {
  const out = { ...resource };
  const spec = copied(out, 'spec');
  if (!spec) return out;
  if (kind === FLINK_STATE_SNAPSHOT) {
    snapshotDefaults(spec);
    return out;
  }
  if (kind === FLINK_DEPLOYMENT) {
    setIfAbsent(spec, 'serviceAccount', 'flink');
    setIfAbsent(spec, 'mode', 'native');
    const jobManager = writable(spec, 'jobManager');
    if (jobManager) setIfAbsent(jobManager, 'replicas', 1);
  } else if (typeof spec.deploymentName === 'string' && LABEL_VALUE.test(spec.deploymentName)) {
    // A name no label can hold (validation refuses it, with its reason) would only make the API server refuse the label.
    const metadata = writable(out, 'metadata');
    const labels = metadata && writable(metadata, 'labels');
    if (labels) labels[TARGET_SESSION_LABEL] = spec.deploymentName;
  }
  const job = copied(spec, 'job');
  if (job) {
    setIfAbsent(job, 'state', 'running');
    setIfAbsent(job, 'upgradeMode', 'stateless');
    setIfAbsent(job, 'args', []);
  }
  return out;
}

/** `parent[key]` to write to: a copy of it, or a new object where it is absent. */
function writable(parent: Json, key: string): Json | undefined {
  setIfAbsent(parent, key, {});
  return copied(parent, key);
}

/** Replaces `parent[key]`, when it is an object, by a shallow copy of it and returns the copy to write to. */
function copied(parent: Json, key: string): Json | undefined {
  const child = asObject(parent[key]);
  if (!child) return undefined;
  const copy = { ...child };
  parent[key] = copy;
  return copy;
}

/** Upstream's model defaults, written out: retry forever, a canonical savepoint disposed of with its resource. */
function snapshotDefaults(spec: Json): void {
  setIfAbsent(spec, 'backoffLimit', -1);
  const savepoint = copied(spec, 'savepoint');
  if (!savepoint) return;
  setIfAbsent(savepoint, 'formatType', 'CANONICAL');
  setIfAbsent(savepoint, 'disposeOnDelete', true);
  setIfAbsent(savepoint, 'alreadyExists', false);
}

function setIfAbsent(obj: Json, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}
