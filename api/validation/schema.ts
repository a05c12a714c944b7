// Structural validation with the CRD's own schema, so the webhook and the API server never disagree.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { KindInfo } from '../schema/crd.js';
import { kubernetesDefinitions } from '../schema/flink-resources.js';
import { structural } from '../schema/json-schema.js';
import { fieldError, keyPath, shown, type FieldError } from './field-error.js';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields' });
ajv.addKeyword({ keyword: 'x-kubernetes-int-or-string' });

const compiled = new Map<KindInfo, ValidateFunction>();

export function validateStructure(kind: KindInfo, resource: unknown): FieldError[] {
  let validate = compiled.get(kind);
  if (!validate) {
    validate = ajv.compile({ ...structural(kind.schema), $defs: kubernetesDefinitions });
    compiled.set(kind, validate);
  }
  if (validate(resource)) return [];
  // int-or-string fields fail both branches of anyOf and then anyOf itself; report the anyOf once.
  const errors = (validate.errors ?? []).filter((e) => !(e.schemaPath.includes('/anyOf/') && e.keyword === 'type'));
  return dedupe(errors.map(toFieldError));
}

function toFieldError(error: ErrorObject): FieldError {
  const field = fieldPathOf(error.instancePath);
  const data = error.data;
  switch (error.keyword) {
    case 'type':
      return fieldError(field, `must be ${article(String(error.params.type))} (got ${describe(data)})`);
    case 'enum':
      return fieldError(field, `must be one of ${(error.params.allowedValues as unknown[]).map((v) => shown(v)).join(', ')} (got ${shown(data)})`);
    case 'anyOf':
      return fieldError(field, `must be an integer or a string (got ${describe(data)})`);
    default:
      return fieldError(field, error.message ?? 'is invalid');
  }
}

/** `/spec/flinkConfiguration/a.b` → `spec.flinkConfiguration["a.b"]`; array indices as `[0]`. */
export function fieldPathOf(instancePath: string): string {
  const segments = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return segments.reduce((path, segment) => {
    if (/^\d+$/.test(segment)) return `${path}[${segment}]`;
    if (/^[A-Za-z_$][\w$]*$/.test(segment)) return path ? `${path}.${segment}` : segment;
    return keyPath(path, segment);
  }, '') || '(root)';
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${shown(value)}`;
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.field}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
