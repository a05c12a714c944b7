// What the mutating webhook fills in (SPEC §2): only what is absent, never a user's value.
import { FLINK_DEPLOYMENT, FLINK_STATE_SNAPSHOT, type KindInfo } from './schema/crd.js';
import { asObject, type Json } from './validation/access.js';

export const CANARY_LABEL = 'flink.apache.org/canary';
export const TARGET_SESSION_LABEL = 'target.session';

export function isCanary(resource: unknown): boolean {
  return asObject(asObject(asObject(resource)?.metadata)?.labels)?.[CANARY_LABEL] === 'true';
}

/** A defaulted deep copy; the input is left untouched. Sections of the wrong type are left for validation to report. */
export function withDefaults(kind: KindInfo, resource: Json): Json {
  const out = structuredClone(resource);
  const spec = asObject(out.spec);
  if (!spec) return out;
  if (kind === FLINK_STATE_SNAPSHOT) {
    snapshotDefaults(spec);
    return out;
  }
  if (kind === FLINK_DEPLOYMENT) {
    setIfAbsent(spec, 'serviceAccount', 'flink');
    setIfAbsent(spec, 'mode', 'native');
    if (spec.jobManager === undefined || spec.jobManager === null) spec.jobManager = {};
    const jobManager = asObject(spec.jobManager);
    if (jobManager) setIfAbsent(jobManager, 'replicas', 1);
  } else if (typeof spec.deploymentName === 'string') {
    if (out.metadata === undefined || out.metadata === null) out.metadata = {};
    const metadata = asObject(out.metadata);
    if (metadata) {
      if (metadata.labels === undefined || metadata.labels === null) metadata.labels = {};
      const labels = asObject(metadata.labels);
      if (labels) labels[TARGET_SESSION_LABEL] = spec.deploymentName;
    }
  }
  const job = asObject(spec.job);
  if (job) {
    setIfAbsent(job, 'state', 'running');
    setIfAbsent(job, 'upgradeMode', 'stateless');
    setIfAbsent(job, 'args', []);
  }
  return out;
}

/** Upstream's model defaults, written out: retry forever, a canonical savepoint disposed of with its resource. */
function snapshotDefaults(spec: Json): void {
  setIfAbsent(spec, 'backoffLimit', -1);
  const savepoint = asObject(spec.savepoint);
  if (!savepoint) return;
  setIfAbsent(savepoint, 'formatType', 'CANONICAL');
  setIfAbsent(savepoint, 'disposeOnDelete', true);
  setIfAbsent(savepoint, 'alreadyExists', false);
}

function setIfAbsent(obj: Json, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}
