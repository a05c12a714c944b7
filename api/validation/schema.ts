// Structural validation with the CRD's own schema, so the webhook and the API server never disagree.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { KindInfo } from '../schema/crd.js';
import { kubernetesDefinitions } from '../schema/flink-resources.js';
import { structural } from '../schema/json-schema.js';
import { fieldError, keyPath, MAX_SHOWN_CHARS, shown, type FieldError } from './field-error.js';

// Two validators of the one schema: a fail-fast one that answers most reviews (valid ones) at once, and one that
// collects every error, compiled only once something is invalid. Collecting costs ~12 µs per error in ajv, so it
// runs on the whole resource only within NODE_BUDGET values; a larger invalid resource is checked on a copy that
// keeps the first PRUNED_WIDTH entries of every list and map — enough to list the problems, bounded in time.
const NODE_BUDGET = 2_000;
const PRUNED_WIDTH = 100;

function newAjv(allErrors: boolean): Ajv {
  const ajv = new Ajv({ allErrors, strict: true, allowUnionTypes: true, verbose: allErrors });
  ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields' });
  ajv.addKeyword({ keyword: 'x-kubernetes-int-or-string' });
  return ajv;
}

const validators = { failFast: new Map<KindInfo, ValidateFunction>(), complete: new Map<KindInfo, ValidateFunction>() };
let ajvs: { failFast: Ajv; complete: Ajv } | undefined;

function validator(kind: KindInfo, which: 'failFast' | 'complete'): ValidateFunction {
  let validate = validators[which].get(kind);
  if (!validate) {
    ajvs ??= { failFast: newAjv(false), complete: newAjv(true) };
    validate = ajvs[which].compile({ ...structural(kind.schema), $defs: kubernetesDefinitions });
    validators[which].set(kind, validate);
  }
  return validate;
}

export function validateStructure(kind: KindInfo, resource: unknown): FieldError[] {
  if (validator(kind, 'failFast')(resource)) return [];
  const complete = validator(kind, 'complete');
  const large = countValues(resource, NODE_BUDGET) > NODE_BUDGET;
  complete(large ? pruned(resource) : resource);
  // int-or-string fields fail both branches of anyOf and then anyOf itself; report the anyOf once.
  const errors = (complete.errors ?? []).filter((e) => !(e.schemaPath.includes('/anyOf/') && e.keyword === 'type'));
  const found = dedupe(errors.map(toFieldError));
  if (large)
    found.unshift(
      fieldError(
        '(root)',
        `holds more than ${NODE_BUDGET} values: only the first ${PRUNED_WIDTH} entries of each list and map were checked for further problems`,
      ),
    );
  return found;
}

/** How many values (objects, arrays and scalars) `value` holds, counted without recursion up to `limit`. */
function countValues(value: unknown, limit: number): number {
  let count = 0;
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown>;
    if (++count > limit) return count;
    if (node === null || typeof node !== 'object') continue;
    for (const key in node) {
      if (count + stack.length > limit) return limit + 1;
      stack.push(node[key]);
    }
  }
  return count;
}

/** A copy keeping the first PRUNED_WIDTH entries of every list and map (same paths as in the original). */
function pruned(value: unknown): unknown {
  if (Array.isArray(value)) return value.slice(0, PRUNED_WIDTH).map(pruned);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  let kept = 0;
  for (const key in value) {
    if (kept++ === PRUNED_WIDTH) break;
    copy[key] = pruned((value as Record<string, unknown>)[key]);
  }
  return copy;
}

function toFieldError(error: ErrorObject): FieldError {
  const field = fieldPathOf(error.instancePath);
  const data = error.data;
  switch (error.keyword) {
    case 'type':
      return fieldError(field, `must be ${article(String(error.params.type))} (got ${describe(data)})`);
    case 'enum':
      return fieldError(
        field,
        `must be one of ${(error.params.allowedValues as unknown[]).map((v) => shown(v)).join(', ')} (got ${shown(data)})`,
      );
    case 'anyOf':
      return fieldError(field, `must be an integer or a string (got ${describe(data)})`);
    default:
      return fieldError(field, error.message ?? 'is invalid');
  }
}

/** `/spec/flinkConfiguration/a.b` → `spec.flinkConfiguration["a.b"]`; array indices as `[0]`. */
export function fieldPathOf(instancePath: string): string {
  const segments = instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return (
    segments.reduce((path, segment) => {
      if (/^\d+$/.test(segment)) return `${path}[${segment}]`;
      // A name too long to show is a map key like any other, shortened.
      if (/^[A-Za-z_$][\w$]*$/.test(segment) && segment.length <= MAX_SHOWN_CHARS)
        return path ? `${path}.${segment}` : segment;
      return keyPath(path, segment);
    }, '') || '(root)'
  );
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return shown(value); // its size, never its content
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
