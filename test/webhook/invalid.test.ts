// Invalid resources over HTTPS: each rejected with its field path, all errors in one message, UPDATE rules.
import { expect } from 'chai';
import { admissionReview } from '../support/reviews.js';
import { deployedStatus, invalidCases, validDeployment, validSessionJob } from '../support/invalid-cases.js';
import { startWebhook, type WebhookProcess } from '../support/webhook-process.js';

type Review = {
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    warnings?: string[];
  };
};

describe('webhook over HTTPS: invalid resources', () => {
  let webhook: WebhookProcess;
  before(async () => (webhook = await startWebhook()));
  after(async () => expect(await webhook.stop()).to.equal(0));

  const verdict = async (object: unknown, options: Parameters<typeof admissionReview>[1] = {}) => {
    const answer = await webhook.post('/validate', admissionReview(object as never, options));
    expect(answer.status).to.equal(200);
    return answer.json<Review>().response;
  };

  // Rows that need a found session cluster run in the unit suite: this webhook has no Kubernetes API.
  for (const c of invalidCases.filter((c) => !c.context)) {
    it(`${c.kind}: ${c.title} → ${c.field}`, async () => {
      const response = await verdict(c.object);
      expect(response.allowed).to.equal(false);
      expect(response.status).to.include({ code: 422, reason: 'Invalid' });
      expect(response.status!.message).to.include(`${c.field}: `);
      expect(response.status!.message).to.match(c.reason);
    });
  }

  it('lists five different errors of one resource in one message', async () => {
    const d = validDeployment();
    d.metadata.name = 'Orders';
    delete d.spec.flinkVersion;
    d.spec.job.parallelism = 0;
    d.spec.flinkConfiguration['kubernetes.namespace'] = 'elsewhere';
    d.spec.logConfiguration = { 'log4j.properties': '' };
    const { status } = await verdict(d);
    for (const field of [
      'metadata.name',
      'spec.flinkVersion',
      'spec.job.parallelism',
      'spec.flinkConfiguration["kubernetes.namespace"]',
      'spec.logConfiguration["log4j.properties"]',
    ]) {
      expect(status!.message).to.include(`${field}: `);
    }
    expect(status!.message.startsWith('FlinkDeployment.flink.apache.org "Orders" is invalid: [')).to.equal(true);
  });

  describe('UPDATE against the last reconciled spec', () => {
    const deployed = () => {
      const d = validDeployment();
      d.status = deployedStatus(validDeployment().spec);
      return d;
    };
    const update = (edit: (d: ReturnType<typeof validDeployment>) => void) => {
      const old = deployed();
      const next = structuredClone(old);
      edit(next);
      return verdict(next, { operation: 'UPDATE', oldObject: old });
    };

    it('rejects application → session', async () => {
      const r = await update((d) => delete d.spec.job);
      expect(r.allowed).to.equal(false);
      expect(r.status!.message).to.match(/spec.job: cannot be removed/);
    });
    it('rejects native → standalone', async () => {
      const r = await update((d) => (d.spec.mode = 'standalone'));
      expect(r.status!.message).to.match(/spec.mode: cannot change from native to standalone/);
    });
    it('rejects session → application', async () => {
      const old = validDeployment();
      delete old.spec.job;
      old.status = deployedStatus(structuredClone(old.spec));
      const next = structuredClone(old);
      next.spec.job = validDeployment().spec.job;
      const r = await verdict(next, { operation: 'UPDATE', oldObject: old });
      expect(r.status!.message).to.match(/spec.job: cannot be added/);
    });
    it("rejects a session job's new deploymentName", async () => {
      const old = validSessionJob();
      old.status = deployedStatus(validSessionJob().spec);
      const next = structuredClone(old);
      next.spec.deploymentName = 'other-session';
      const r = await verdict(next, { operation: 'UPDATE', oldObject: old });
      expect(r.status!.message).to.match(
        /spec.deploymentName: cannot change after the job was submitted \(was "session"\)/,
      );
    });
    it('reads the status from oldObject when the update carries none', async () => {
      const old = deployed();
      const next = structuredClone(old);
      delete next.status;
      next.spec.mode = 'standalone';
      const r = await verdict(next, { operation: 'UPDATE', oldObject: old });
      expect(r.status!.message).to.match(/spec.mode: cannot change/);
    });
    it('allows an unrelated change (parallelism, image)', async () => {
      const r = await update((d) => ((d.spec.job.parallelism = 4), (d.spec.image = 'flink:2.2.1')));
      expect(r).to.include({ allowed: true });
    });
    it('allows the same switches before the first deployment (no lastReconciledSpec yet)', async () => {
      const old = validDeployment();
      const next = structuredClone(old);
      next.spec.mode = 'standalone';
      expect(await verdict(next, { operation: 'UPDATE', oldObject: old })).to.include({ allowed: true });
    });
  });
});
