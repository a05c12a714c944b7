// AdmissionReview v1 in, AdmissionReview v1 out — every decision, no I/O. The webhook server only
// reads bodies, resolves what the rules need from outside (a session cluster, a jar host) and writes answers.
import fastJsonPatch from 'fast-json-patch';
import { isDeepStrictEqual } from 'node:util';
import { isCanary, withDefaults } from './defaults.js';
import { GROUP, KINDS, VERSION, type KindInfo } from './schema/crd.js';
import { asObject, asString, type Json } from './validation/access.js';
import { shown } from './validation/field-error.js';
import {
  formatFieldError,
  jarHostToResolve,
  validateResource,
  type FieldError,
  type ValidationContext,
} from './validation/index.js';
import { jobReferenceOf, type JobReference } from './validation/state-snapshot.js';

const { compare } = fastJsonPatch;

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface AdmissionRequest {
  uid: string;
  kind: KindInfo;
  operation: Operation;
  namespace: string | undefined;
  name: string | undefined;
  object: Json | undefined;
  oldObject: Json | undefined;
  dryRun: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string; details?: Json };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** A request we cannot answer with a review: HTTP 400 and one line saying why. */
export class BadReview extends Error {}

/** Deeper than any FlinkDeployment a person writes (a pod template is ~15 levels); bounds every recursive rule. */
export const MAX_NESTING = 100;
/** More entries than any list or map of a Flink resource holds; bounds the work of every rule that visits them. */
export const MAX_ENTRIES = 10_000;
/** A uid is a UUID and names are DNS labels; anything longer is not from an API server. */
const MAX_UID_CHARS = 128;
const MAX_NAME_CHARS = 253;

/**
 * Why a JSON text is too deep or too wide to be parsed and looked at, or undefined — read from its bytes in one pass
 * (a few milliseconds for 3 MiB), before JSON.parse builds anything: a map of 100,000 keys costs more to parse than
 * to refuse. The text may be invalid JSON; JSON.parse says so afterwards.
 */
export function jsonShapeProblem(text: Uint8Array): string | undefined {
  const commas: number[] = [];
  // Per open container, where its key is in `text` (undefined for the root and list items): decoded only for a message.
  const keys: ([number, number] | undefined)[] = [];
  let lastString: [number, number] | undefined;
  let afterColon = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === 0x22 /* " */) {
      // Jump to the closing quote natively: most of a review's bytes are inside strings.
      const start = i + 1;
      do i = text.indexOf(0x22, i + 1);
      while (i > 0 && escaped(text, i));
      if (i < 0) return undefined; // unterminated: JSON.parse says so
      lastString = [start, i];
      afterColon = false;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (commas.length >= MAX_NESTING) return `body nests deeper than ${MAX_NESTING} levels`;
      keys.push(afterColon ? lastString : undefined);
      commas.push(0);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      commas.pop();
      keys.pop();
    } else if (c === 0x2c /* , */ && commas.length > 0) {
      // n commas separate n + 1 entries.
      if (++commas[commas.length - 1]! >= MAX_ENTRIES)
        return `${shown(containerName(text, keys))} holds more than ${MAX_ENTRIES} entries`;
    }
    if (c > 0x20) afterColon = c === 0x3a; /* : */
  }
  return undefined;
}

/** The innermost open container's name: its key, or its nearest named ancestor's with `[]` per list level below it. */
function containerName(text: Uint8Array, keys: readonly ([number, number] | undefined)[]): string {
  let suffix = '';
  for (let level = keys.length - 1; level >= 0; level--) {
    const key = keys[level];
    if (key) return Buffer.from(text.subarray(key[0], Math.min(key[1], key[0] + 200))).toString('utf8') + suffix;
    if (level > 0) suffix += '[]';
  }
  return `(root)${suffix}`;
}

/** Whether the quote at `at` is escaped: an odd number of backslashes before it. */
function escaped(text: Uint8Array, at: number): boolean {
  let backslashes = 0;
  while (at - 1 - backslashes >= 0 && text[at - 1 - backslashes] === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}

const servedKinds = (): string => {
  const names = KINDS.map((k) => k.kind);
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
};

/** Checks the envelope of an AdmissionReview and that it is about one of our kinds. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  const review = asObject(body);
  if (!review) throw new BadReview('body is not a JSON object');
  if (review.kind !== 'AdmissionReview')
    throw new BadReview(`body is not an AdmissionReview (kind: ${describe(review.kind)})`);
  if (review.apiVersion !== ADMISSION_API_VERSION) {
    throw new BadReview(
      `AdmissionReview apiVersion ${describe(review.apiVersion)} is not supported; send ${ADMISSION_API_VERSION}`,
    );
  }
  const request = asObject(review.request);
  if (!request) throw new BadReview('AdmissionReview has no request');
  const uid = asString(request.uid);
  if (!uid) throw new BadReview('request.uid is missing');
  if (uid.length > MAX_UID_CHARS) throw new BadReview(`request.uid is longer than ${MAX_UID_CHARS} characters`);
  for (const field of ['name', 'namespace'] as const) {
    const value = asString(request[field]);
    if (value !== undefined && value.length > MAX_NAME_CHARS)
      throw new BadReview(`request.${field} is longer than ${MAX_NAME_CHARS} characters`);
  }
  const operation = request.operation;
  if (!OPERATIONS.includes(operation as Operation))
    throw new BadReview(`request.operation ${describe(operation)} is not one of ${OPERATIONS.join(', ')}`);
  const gvk = asObject(request.kind);
  const kind = KINDS.find((k) => gvk?.group === GROUP && gvk.version === VERSION && gvk.kind === k.kind);
  if (!kind) {
    const shownKind = gvk ? `${namePart(gvk.kind)}.${namePart(gvk.group)}/${namePart(gvk.version)}` : 'missing';
    throw new BadReview(
      `request.kind ${shownKind} is not served here; this webhook serves ${servedKinds()} ${GROUP}/${VERSION}`,
    );
  }
  const object = optionalObject(request.object, 'request.object');
  const oldObject = optionalObject(request.oldObject, 'request.oldObject');
  if ((operation === 'CREATE' || operation === 'UPDATE') && !object)
    throw new BadReview(`request.object is required for ${operation}`);
  if (operation === 'UPDATE' && !oldObject) throw new BadReview('request.oldObject is required for UPDATE');
  return {
    uid,
    kind,
    operation: operation as Operation,
    namespace: asString(request.namespace),
    name: asString(request.name),
    object,
    oldObject,
    dryRun: request.dryRun === true,
  };
}

/** A kind, group or version as it is when it looks like one, else shortened like any other value. */
function namePart(value: unknown): string {
  return typeof value === 'string' && /^[\w.-]{1,63}$/.test(value) ? value : describe(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'missing' : shown(value);
}

function optionalObject(value: unknown, field: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = asObject(value);
  if (!obj) throw new BadReview(`${field} is not an object`);
  return obj;
}

export function review(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** `/mutate`: the defaults of SPEC §2 as a JSON Patch diffed from the original (empty: no patch at all). */
export function mutate(request: AdmissionRequest): AdmissionReviewOut {
  const allowed = { uid: request.uid, allowed: true };
  const object = request.object;
  if (!object || !['CREATE', 'UPDATE'].includes(request.operation) || isCanary(object)) return review(allowed);
  const patch = compare(object, withDefaults(request.kind, object));
  if (patch.length === 0) return review(allowed);
  return review({ ...allowed, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
}

/** What the validating rules need from outside for this request; the shell looks these up, then calls `validate`. */
export interface ExternalFacts {
  sessionDeploymentName?: string;
  /** A FlinkDeployment's ServiceAccount (defaulted by `/mutate`): its pods cannot be created without it. */
  serviceAccount?: string;
  jarHost?: string;
  /** A FlinkStateSnapshot's job resource. */
  jobReference?: JobReference;
}

export function externalFactsNeeded(
  request: AdmissionRequest,
  operatorConfig: ValidationContext['operatorConfig'],
): ExternalFacts {
  if (!needsValidation(request)) return {};
  const spec = asObject(request.object?.spec);
  if (request.kind.kind === 'FlinkDeployment') {
    const serviceAccount = asString(spec?.serviceAccount);
    return spec && serviceAccount ? { serviceAccount } : {};
  }
  if (request.kind.kind === 'FlinkStateSnapshot') {
    const jobReference = jobReferenceOf(request.object ?? {});
    return jobReference ? { jobReference } : {};
  }
  const deploymentName = asString(spec?.deploymentName);
  // The jar rule reads the operator configuration only (see validateFlinkSessionJob).
  const jarHost = jarHostToResolve(asString(asObject(spec?.job)?.jarURI), operatorConfig);
  return { ...(deploymentName ? { sessionDeploymentName: deploymentName } : {}), ...(jarHost ? { jarHost } : {}) };
}

function needsValidation(request: AdmissionRequest): boolean {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return false;
  if (isCanary(request.object)) return false;
  // Labels, annotations and finalizers must always be changeable, or an invalid resource could never be deleted.
  if (request.operation === 'UPDATE' && isDeepStrictEqual(request.object?.spec, request.oldObject?.spec)) return false;
  return true;
}

/** `/validate`: every problem at once, as a 422 Invalid the way the API server words its own. */
export function validate(request: AdmissionRequest, ctx: ValidationContext): AdmissionReviewOut {
  if (!needsValidation(request)) return review({ uid: request.uid, allowed: true });
  const resource = withStatusOf(request.object!, request.oldObject);
  const { errors, warnings, omitted } = validateResource(request.kind, resource, ctx);
  const base = { uid: request.uid, ...(warnings.length > 0 ? { warnings } : {}) };
  if (errors.length === 0) return review({ ...base, allowed: true });
  // request.name is bounded by parsing; an object's own name (a CREATE without one) is not until the API server checks it.
  const name = (request.name ?? asString(asObject(request.object?.metadata)?.name) ?? '').slice(0, MAX_NAME_CHARS);
  return review({
    ...base,
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: invalidMessage(request.kind, name, errors, omitted),
      details: {
        name,
        group: GROUP,
        kind: request.kind.kind,
        causes: errors.map((e) => ({ reason: 'FieldValueInvalid', message: e.message, field: e.field })),
      },
    },
  });
}

/** `FlinkDeployment.flink.apache.org "x" is invalid: [a: …, b: …]` — the API server's own shape. */
export function invalidMessage(kind: KindInfo, name: string, errors: FieldError[], omitted = 0): string {
  const list = errors.map(formatFieldError);
  if (omitted > 0) list.push(`and ${omitted} more ${omitted === 1 ? 'problem' : 'problems'}`);
  return `${kind.kind}.${GROUP} ${shown(name)} is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
}

/** Spec updates carry the stored status; if a client left it out, the old object's status is the truth. */
function withStatusOf(object: Json, oldObject: Json | undefined): Json {
  return object.status === undefined && oldObject?.status !== undefined
    ? { ...object, status: oldObject.status }
    : object;
}
