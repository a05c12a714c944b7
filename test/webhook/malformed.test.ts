// Whatever a client sends, the server answers with a review or a one-line 4xx, and keeps serving.
import { expect } from 'chai';
import { connect } from 'node:tls';
import { admissionReview } from '../support/reviews.js';
import { validDeployment } from '../support/invalid-cases.js';
import { startWebhook, type WebhookProcess } from '../support/webhook-process.js';

describe('webhook over HTTPS: malformed requests', () => {
  let webhook: WebhookProcess;
  before(async () => (webhook = await startWebhook(['--request-timeout', '2s'])));
  afterEach(async () => {
    expect(webhook.alive(), 'the webhook process is still running').to.equal(true);
    const ok = await webhook.post('/validate', admissionReview(validDeployment(), { uid: 'still-serving' }));
    expect(ok.status).to.equal(200);
    expect(ok.json<{ response: { uid: string } }>().response.uid).to.equal('still-serving');
  });
  after(async () => expect(await webhook.stop()).to.equal(0));

  const oneLine = (text: string) => {
    expect(text.trim().split('\n'), 'a one-line reason').to.have.length(1);
    expect(text).to.not.match(/\bat .*\(.*:\d+:\d+\)/, 'no stack trace');
  };

  const cases: [string, string | Buffer, number, RegExp, Record<string, string>?][] = [
    ['a body that is not JSON', '{"apiVersion": ', 400, /not JSON/],
    ['an empty body', '', 400, /empty/],
    ['JSON that is not an AdmissionReview', '{"hello":"world"}', 400, /not an AdmissionReview/],
    ['a JSON array', '[]', 400, /not a JSON object/],
    [
      'a v1beta1 AdmissionReview',
      JSON.stringify({ ...admissionReview(validDeployment()), apiVersion: 'admission.k8s.io/v1beta1' }),
      400,
      /admission.k8s.io\/v1beta1" is not supported/,
    ],
    [
      'a review without request.object',
      JSON.stringify(admissionReview(null)),
      400,
      /request.object is required for CREATE/,
    ],
    [
      'a review of a kind we do not serve',
      JSON.stringify(admissionReview({ kind: 'Deployment', metadata: { name: 'x' } })),
      400,
      /not served here/,
    ],
    [
      'a wrong Content-Type',
      JSON.stringify(admissionReview(validDeployment())),
      415,
      /Content-Type must be application\/json \(got text\/plain\)/,
      { 'content-type': 'text/plain' },
    ],
    ['no Content-Type', JSON.stringify(admissionReview(validDeployment())), 415, /got none/, {}],
    ['a body of invalid UTF-8 bytes', Buffer.from([0xff, 0xfe, 0x7b]), 400, /not JSON/],
  ];
  for (const [title, body, status, reason, headers] of cases) {
    it(`answers ${status} to ${title}`, async () => {
      const answer = await webhook.post('/validate', body, headers ?? { 'content-type': 'application/json' });
      expect(answer.status).to.equal(status);
      expect(answer.text).to.match(reason);
      oneLine(answer.text);
    });
  }

  it('answers 413 to a 10 MiB body, on both paths', async () => {
    const huge = Buffer.alloc(10 * 1024 * 1024, 0x20);
    for (const path of ['/mutate', '/validate']) {
      const answer = await webhook.post(path, huge);
      expect(answer.status).to.equal(413);
      expect(answer.text).to.match(/request body exceeds 3145728 bytes/);
    }
  });

  it('answers 404 to an unknown path and to GET on /validate', async () => {
    expect((await webhook.post('/admit', '{}')).status).to.equal(404);
    const get = await webhook.get('/validate');
    expect(get.status).to.equal(404);
    oneLine(get.text);
  });

  it('answers 408 to a client that stops halfway, without holding up others', async () => {
    const socket = connect({ host: '127.0.0.1', port: webhook.port, ca: webhook.ca, servername: 'localhost' });
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write(
      'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"apiVersion"',
    );
    const other = await webhook.post('/validate', admissionReview(validDeployment()));
    expect(other.status, 'another client is served meanwhile').to.equal(200);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Buffer.concat(received).toString()).to.match(/^HTTP\/1.1 408/);
  });
});
