// `status.reconciliationStatus.lastReconciledSpec` / `lastStableSpec`: upstream's JSON envelope
// `{"spec": …, "resource_metadata": {"apiVersion", "firstDeployment"}}`, or the legacy bare spec.
import { API_VERSION } from './schema/crd.js';
import { asObject, type Json } from './validation/access.js';

export interface SpecEnvelope {
  spec: Json;
  apiVersion: string;
  firstDeployment: boolean;
}

/** Reads either form; undefined when the text is absent or not a JSON object. */
export function readSpecEnvelope(text: unknown): SpecEnvelope | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const obj = asObject(parsed);
  if (!obj) return undefined;
  const meta = asObject(obj.resource_metadata);
  if (!meta) {
    const { apiVersion: _apiVersion, ...spec } = obj;
    return { spec, apiVersion: API_VERSION, firstDeployment: false };
  }
  return {
    spec: asObject(obj.spec) ?? {},
    apiVersion: typeof meta.apiVersion === 'string' ? meta.apiVersion : API_VERSION,
    firstDeployment: meta.firstDeployment === true,
  };
}

export function writeSpecEnvelope(envelope: SpecEnvelope): string {
  return canonicalJson({
    spec: envelope.spec,
    resource_metadata: { apiVersion: envelope.apiVersion, firstDeployment: envelope.firstDeployment },
  });
}

/** Deterministic JSON: no nulls or undefined, object keys in a fixed order, so equal specs are equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  const obj = asObject(value);
  if (!obj) return value;
  const out: Json = {};
  for (const key of Object.keys(obj).sort()) {
    const child = obj[key];
    if (child !== null && child !== undefined) out[key] = canonical(child);
  }
  return out;
}

/** The last reconciled spec of a resource's status, if it was ever deployed. */
export function lastReconciledSpec(status: unknown): SpecEnvelope | undefined {
  return readSpecEnvelope(asObject(asObject(status)?.reconciliationStatus)?.lastReconciledSpec);
}
