// ≥ 10,000 generated requests per run — random JSON, random reviews, and upstream examples with random damage —
// each answered with a well-formed AdmissionReview carrying the request's uid, or a 4xx; never a 5xx.
import { expect } from 'chai';
import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import { upstreamExamples } from '../support/examples.js';
import { KINDS } from '../../api/schema/crd.js';
import type { JSONSchemaProps } from '../../api/schema/json-schema.js';
import { deployedStatus } from '../support/invalid-cases.js';
import { admissionReview } from '../support/reviews.js';
import { startWebhook, type HttpAnswer, type WebhookProcess } from '../support/webhook-process.js';

type Json = Record<string, unknown>;
const examples = upstreamExamples().map((e) => e.object as Json);

/** Paths into an object, for picking a place to damage. */
function pathsOf(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix);
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) if (prefix.length < 6) pathsOf(child, [...prefix, key], out);
  }
  return out;
}

function damage(object: Json, path: string[], replacement: unknown, remove: boolean): Json {
  const copy = structuredClone(object);
  if (path.length === 0) return copy;
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
}

const operation = fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'PATCH', '');
const kind = fc.constantFrom('FlinkDeployment', 'FlinkSessionJob', 'FlinkStateSnapshot', 'Pod');

const damagedExample = fc
  .tuple(fc.nat(examples.length - 1), fc.nat(), fc.jsonValue({ maxDepth: 3 }), fc.boolean(), operation, fc.boolean())
  .map(([i, p, replacement, remove, op, withOld]) => {
    const original = examples[i]!;
    const paths = pathsOf(original);
    const object = damage(original, paths[p % paths.length]!, replacement, remove);
    const review = admissionReview(object as never, {
      operation: op as never,
      ...(withOld ? { oldObject: original } : {}),
    });
    return { body: JSON.stringify(review), review };
  });

const randomReview = fc
  .tuple(fc.jsonValue({ maxDepth: 4 }), operation, kind, fc.option(fc.string(), { nil: undefined }))
  .map(([object, op, k, uid]) => {
    const review = admissionReview({ kind: k, metadata: { name: 'x' }, spec: object } as never, {
      operation: op as never,
    });
    if (uid !== undefined) (review.request as { uid: unknown }).uid = uid;
    return { body: JSON.stringify(review), review };
  });

/** The classes that once held or bloated the server: deep nesting, thousands of errors, large maps — at a random place. */
const hostileShape = fc
  .tuple(
    fc.nat(examples.length - 1),
    fc.nat(),
    fc.constantFrom('nesting', 'errors', 'map'),
    fc.integer({ min: 50, max: 12_000 }),
    operation,
  )
  .map(([i, p, shape, size, op]) => {
    const original = examples[i]!;
    const paths = pathsOf(original).filter((path) => path.length > 0);
    const replacement =
      shape === 'nesting'
        ? JSON.parse(`${'['.repeat(Math.min(size, 3000))}1${']'.repeat(Math.min(size, 3000))}`)
        : shape === 'errors'
          ? Array.from({ length: size }, (_, n) => ({ name: n }))
          : Object.fromEntries(Array.from({ length: size }, (_, n) => [`key-${n}`, n % 2 === 0 ? n : 'v'.repeat(40)]));
    const review = admissionReview(damage(original, paths[p % paths.length]!, replacement, false) as never, {
      operation: op as never,
    });
    return { body: JSON.stringify(review), review };
  });

/** Every string field of a kind's spec in our JSON Schema, enums included (not the pod templates: Kubernetes' own). */
function schemaStringPaths(schema: JSONSchemaProps, prefix: string[] = ['spec']): string[][] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, prop]) => {
    if (key === 'podTemplate') return [];
    const path = [...prefix, key];
    if (prop.type === 'string' || prop.enum) return [path];
    return prop.type === 'object' && prefix.length < 4 ? schemaStringPaths(prop, path) : [];
  });
}
const stringFieldsOf = new Map(KINDS.map((k) => [k.kind as string, schemaStringPaths(k.schema.properties!.spec!)]));

function setPath(object: Json, path: string[], value: unknown): void {
  let node = object as Record<string, unknown>;
  for (const key of path.slice(0, -1))
    node = (node[key] =
      node[key] !== null && typeof node[key] === 'object' && !Array.isArray(node[key]) ? node[key] : {}) as Record<
      string,
      unknown
    >;
  node[path.at(-1)!] = value;
}

/**
 * One string or enum field — any string of an example, or any string field its kind's schema has — holding a string
 * of up to a million characters JSON escapes (a backslash, a quote, a control character): a message that echoes it
 * whole, or escapes it twice, outgrows the request. Updates carry an old object whose status holds the spec it
 * replaces, so the rules that compare against the deployed spec speak too; without request.name the object's own
 * name is the one an answer names.
 */
const hugeString = fc
  .tuple(
    fc.nat(examples.length - 1),
    fc.nat(),
    fc.constantFrom('\\', '"', '\u0001', '\\"a', 'é', 'x'),
    fc.integer({ min: 100_000, max: 1_000_000 }),
    fc.constantFrom('CREATE', 'UPDATE'),
    fc.boolean(),
  )
  .map(([i, p, piece, length, op, withName]) => {
    const original = examples[i]!;
    const isString = (path: string[]) =>
      typeof path.reduce<unknown>((node, key) => (node as Json)[key], original) === 'string' &&
      !['kind', 'apiVersion'].includes(path[0]!);
    const paths = [
      ...pathsOf(original).filter(isString),
      ...(stringFieldsOf.get(String(original.kind)) ?? []),
      ['metadata', 'name'],
    ];
    // Within the 3 MiB body limit once escaped.
    const huge = piece.repeat(Math.min(length, Math.floor(2_800_000 / (JSON.stringify(piece).length - 2))));
    const object = structuredClone(original);
    setPath(object, paths[p % paths.length]!, huge);
    const oldObject = { ...structuredClone(original), status: deployedStatus((original.spec ?? {}) as Json) };
    const review = admissionReview(object as never, {
      operation: op as never,
      ...(op === 'UPDATE' ? { oldObject } : {}),
    });
    if (!withName) delete (review.request as { name?: string }).name;
    const field = paths[p % paths.length]!.join('.');
    // A failure names the case, not the megabytes of its body.
    return {
      body: JSON.stringify(review),
      review,
      [fc.toStringMethod]: () =>
        `${op} ${String(original.kind)} ${String(original.metadata && (original.metadata as Json).name)}: ${field} = ${JSON.stringify(piece)} × ${huge.length / piece.length}${withName ? '' : ', no request.name'}`,
    };
  });

const randomJson = fc.jsonValue({ maxDepth: 4 }).map((v) => ({ body: JSON.stringify(v) ?? 'null', review: undefined }));
const randomText = fc.string({ maxLength: 200 }).map((s) => ({ body: s, review: undefined }));

function checkAnswer(
  answer: HttpAnswer,
  sent: { body: string; review?: { request: { uid: unknown; object: unknown } } },
): void {
  expect(answer.status, `never a 5xx: ${answer.text}`).to.be.below(500);
  expect(answer.text.length, 'an answer never much larger than its request').to.be.below(sent.body.length + 32 * 1024);
  if (answer.status !== 200) {
    expect(answer.status).to.be.within(400, 499);
    expect(answer.text.trim().split('\n')).to.have.length(1);
    return;
  }
  const review = answer.json<{
    apiVersion: string;
    kind: string;
    response: { uid: unknown; allowed: unknown; patch?: string; status?: { code: number; message: string } };
  }>();
  expect(review.apiVersion).to.equal('admission.k8s.io/v1');
  expect(review.kind).to.equal('AdmissionReview');
  expect(review.response.uid).to.equal(sent.review?.request.uid);
  expect(review.response.allowed).to.be.a('boolean');
  if (review.response.allowed === false) {
    expect(review.response.status?.code).to.equal(422);
    expect(review.response.status?.message).to.be.a('string').and.not.equal('');
  }
  if (review.response.patch !== undefined) {
    const ops = JSON.parse(Buffer.from(review.response.patch, 'base64').toString()) as fastJsonPatch.Operation[];
    expect(() => fastJsonPatch.applyPatch(structuredClone(sent.review!.request.object), ops, true)).to.not.throw();
  }
}

describe('webhook over HTTPS: generated requests (fast-check)', function () {
  this.timeout(240_000);
  let webhook: WebhookProcess;
  before(async () => (webhook = await startWebhook()));
  after(async () => expect(await webhook.stop()).to.equal(0));

  const runs: [string, fc.Arbitrary<{ body: string; review?: unknown }>, number][] = [
    ['upstream examples with random damage', damagedExample, 5000],
    ['random reviews', randomReview, 3000],
    ['hostile shapes: deep nesting, thousands of errors, large maps', hostileShape, 600],
    ['a huge string in any string or enum field', hugeString, 400],
    ['random JSON', randomJson, 1500],
    ['random text', randomText, 500],
  ];
  for (const [title, arbitrary, numRuns] of runs) {
    it(`${title}: ${numRuns} requests`, async () => {
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(arbitrary, fc.constantFrom('/mutate', '/validate'), async (sample, path) => {
          sent++;
          checkAnswer(await webhook.post(path, sample.body), sample as never);
        }),
        { numRuns },
      );
      expect(sent).to.be.at.least(numRuns);
      expect(webhook.alive()).to.equal(true);
    });
  }

  it('is still alive and healthy after all of them', async () => {
    expect(webhook.alive()).to.equal(true);
    expect((await webhook.get('/healthz')).status).to.equal(200);
  });
});
