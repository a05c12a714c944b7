import { expect } from 'chai';
import fastJsonPatch from 'fast-json-patch';
import { BadReview, mutate, parseAdmissionReview, validate } from '../../api/admission.js';
import { admissionReview } from '../support/reviews.js';
import { validDeployment } from '../support/invalid-cases.js';

const ctx = { operatorConfig: {} };
const decodePatch = (patch: string | undefined) =>
  patch ? (JSON.parse(Buffer.from(patch, 'base64').toString()) as fastJsonPatch.Operation[]) : [];

describe('admission decisions', () => {
  const envelopes: [string, unknown, RegExp][] = [
    ['not an object', [1, 2], /not a JSON object/],
    ['no kind', { apiVersion: 'admission.k8s.io/v1' }, /not an AdmissionReview \(kind: missing\)/],
    [
      'v1beta1 review',
      { ...admissionReview(validDeployment()), apiVersion: 'admission.k8s.io/v1beta1' },
      /apiVersion "admission.k8s.io\/v1beta1" is not supported/,
    ],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /has no request/],
    [
      'no uid',
      (() => {
        const r = admissionReview(validDeployment());
        (r.request as { uid?: string }).uid = undefined;
        return r;
      })(),
      /uid is missing/,
    ],
    [
      'unknown operation',
      (() => {
        const r = admissionReview(validDeployment());
        (r.request as { operation: string }).operation = 'PATCH';
        return r;
      })(),
      /operation "PATCH"/,
    ],
    [
      'a kind we do not serve',
      admissionReview({ kind: 'FlinkBlueGreenDeployment', metadata: { name: 's' } }),
      /FlinkBlueGreenDeployment.flink.apache.org\/v1beta1 is not served here; this webhook serves FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot/,
    ],
    ['CREATE without object', admissionReview(null), /request.object is required for CREATE/],
    [
      'UPDATE without oldObject',
      admissionReview(validDeployment(), { operation: 'UPDATE' }),
      /oldObject is required for UPDATE/,
    ],
    [
      'object that is a string',
      (() => {
        const r = admissionReview(validDeployment());
        (r.request as { object: unknown }).object = 'x';
        return r;
      })(),
      /request.object is not an object/,
    ],
  ];
  for (const [title, body, reason] of envelopes) {
    it(`refuses ${title}`, () => expect(() => parseAdmissionReview(body)).to.throw(BadReview, reason));
  }

  it('answers with the request uid, and an empty patch means no patch at all', () => {
    const review = admissionReview(validDeployment(), { uid: 'abc' });
    const answer = mutate(parseAdmissionReview(review));
    expect(answer).to.deep.equal({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'abc', allowed: true },
    });
  });

  it('produces a JSON Patch that, applied, gives the defaulted object', () => {
    const d = validDeployment();
    delete d.spec.serviceAccount;
    delete d.spec.job.args;
    const answer = mutate(parseAdmissionReview(admissionReview(d)));
    expect(answer.response.patchType).to.equal('JSONPatch');
    const patched = fastJsonPatch.applyPatch(structuredClone(d), decodePatch(answer.response.patch)).newDocument;
    expect(patched).to.deep.equal(validDeployment());
  });

  it('leaves canaries, DELETE and CONNECT alone', () => {
    const canary = {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkDeployment',
      metadata: { name: 'canary', labels: { 'flink.apache.org/canary': 'true' } },
    };
    expect(mutate(parseAdmissionReview(admissionReview(canary))).response).to.not.have.property('patch');
    expect(validate(parseAdmissionReview(admissionReview(canary)), ctx).response.allowed).to.equal(true);
    const del = admissionReview(null, { operation: 'DELETE', oldObject: { ...validDeployment(), spec: { image: 5 } } });
    expect(validate(parseAdmissionReview(del), ctx).response.allowed).to.equal(true);
    expect(mutate(parseAdmissionReview(del)).response).to.not.have.property('patch');
  });

  it('rejects with 422 Invalid in the API server shape, naming every field', () => {
    const d = validDeployment();
    delete d.spec.image;
    d.spec.job.parallelism = 0;
    const { response } = validate(parseAdmissionReview(admissionReview(d)), ctx);
    expect(response.allowed).to.equal(false);
    expect(response.status).to.include({ code: 422, reason: 'Invalid' });
    expect(response.status!.message).to.equal(
      'FlinkDeployment.flink.apache.org "orders" is invalid: [spec.image: is required (the Flink image to run, e.g. flink:2.2), spec.job.parallelism: must be ≥ 1 when spec.taskManager.replicas is not set (got 0)]',
    );
    expect((response.status!.details as { causes: unknown[] }).causes).to.have.length(2);
  });

  it('always allows an UPDATE that leaves .spec alone, so an invalid resource can still lose its finalizer', () => {
    const old = validDeployment();
    old.spec.image = '';
    old.metadata.finalizers = ['flinkdeployments.flink.apache.org/finalizer'];
    const next = structuredClone(old);
    next.metadata.finalizers = [];
    expect(
      validate(parseAdmissionReview(admissionReview(next, { operation: 'UPDATE', oldObject: old })), ctx).response
        .allowed,
    ).to.equal(true);
    next.spec.image = ' ';
    expect(
      validate(parseAdmissionReview(admissionReview(next, { operation: 'UPDATE', oldObject: old })), ctx).response
        .allowed,
    ).to.equal(false);
  });
});
