// Every upstream example, as the API server would send it: /mutate, patch applied, then /validate.
import { expect } from 'chai';
import fastJsonPatch from 'fast-json-patch';
import { upstreamExamples } from '../support/examples.js';
import { admissionReview } from '../support/reviews.js';
import { startWebhook, type WebhookProcess } from '../support/webhook-process.js';

type Review = {
  response: {
    uid: string;
    allowed: boolean;
    patch?: string;
    patchType?: string;
    status?: { message: string };
    warnings?: string[];
  };
};
const decode = (patch: string | undefined) =>
  patch ? (JSON.parse(Buffer.from(patch, 'base64').toString()) as fastJsonPatch.Operation[]) : [];

describe('webhook over HTTPS: the upstream examples', () => {
  let webhook: WebhookProcess;
  before(async () => (webhook = await startWebhook()));
  after(async () => expect(await webhook.stop()).to.equal(0));

  for (const example of upstreamExamples()) {
    it(`${example.file}: ${example.kind} ${example.name} is defaulted and admitted`, async () => {
      const object = structuredClone(example.object);
      const mutated = await webhook.post('/mutate', admissionReview(object, { uid: `m-${example.name}` }));
      expect(mutated.status).to.equal(200);
      const mutation = mutated.json<Review>().response;
      expect(mutation).to.include({ uid: `m-${example.name}`, allowed: true });
      const patched = fastJsonPatch.applyPatch(structuredClone(object), decode(mutation.patch))
        .newDocument as typeof object;

      const canary = object.metadata.labels?.['flink.apache.org/canary'] === 'true';
      if (canary) {
        expect(mutation.patch, 'canaries pass untouched').to.equal(undefined);
      } else if (example.kind === 'FlinkDeployment') {
        const spec = patched.spec as {
          serviceAccount: string;
          mode: string;
          jobManager: { replicas: number };
          job?: { state: string; upgradeMode: string; args: unknown[] };
        };
        expect(spec.serviceAccount).to.equal(
          (example.object.spec as { serviceAccount?: string }).serviceAccount ?? 'flink',
        );
        expect(spec.mode).to.be.oneOf(['native', 'standalone']);
        expect(spec.jobManager.replicas).to.be.a('number');
        if (spec.job) {
          expect(spec.job.state).to.be.oneOf(['running', 'suspended']);
          expect(spec.job.upgradeMode).to.be.oneOf(['stateless', 'savepoint', 'last-state']);
          expect(spec.job.args).to.be.an('array');
        }
      } else if (example.kind === 'FlinkStateSnapshot') {
        const spec = patched.spec as { backoffLimit: number; savepoint?: Record<string, unknown> };
        expect(spec.backoffLimit).to.be.a('number');
        if (spec.savepoint) expect(spec.savepoint).to.include.keys('formatType', 'disposeOnDelete', 'alreadyExists');
      } else {
        const spec = patched.spec as {
          deploymentName: string;
          job: { state: string; upgradeMode: string; args: unknown[] };
        };
        expect(patched.metadata.labels?.['target.session']).to.equal(spec.deploymentName);
        expect(spec.job).to.include.keys('state', 'upgradeMode', 'args');
      }

      const again = (await webhook.post('/mutate', admissionReview(patched))).json<Review>().response;
      expect(again.patch, 'nothing left to default: no patch').to.equal(undefined);

      const validated = await webhook.post('/validate', admissionReview(patched, { uid: `v-${example.name}` }));
      expect(validated.status).to.equal(200);
      const verdict = validated.json<Review>().response;
      expect(verdict.status?.message, 'rejection message').to.equal(undefined);
      expect(verdict).to.include({ uid: `v-${example.name}`, allowed: true });
      if (example.kind === 'FlinkSessionJob') {
        expect(verdict.warnings?.join('\n')).to.match(/session cluster could not be checked/);
      }
    });
  }

  it('defaults exactly the missing fields of basic.yaml', async () => {
    const basic = upstreamExamples().find((e) => e.file === 'basic.yaml')!.object;
    const mutation = (await webhook.post('/mutate', admissionReview(basic))).json<Review>().response;
    expect(decode(mutation.patch).sort((a, b) => a.path.localeCompare(b.path))).to.deep.equal([
      { op: 'add', path: '/spec/job/args', value: [] },
      { op: 'add', path: '/spec/job/state', value: 'running' },
      { op: 'add', path: '/spec/jobManager/replicas', value: 1 },
      { op: 'add', path: '/spec/mode', value: 'native' },
    ]);
  });
});
