// TLS policy, certificate rotation, health, metrics and graceful shutdown of the real flink-webhook process.
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { admissionReview } from '../support/reviews.js';
import { validDeployment } from '../support/invalid-cases.js';
import { handshake, startWebhook, writeCertificates, type WebhookProcess } from '../support/webhook-process.js';

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 8000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('webhook server', () => {
  let webhook: WebhookProcess;
  before(async () => (webhook = await startWebhook()));
  after(async () => {
    if (webhook.alive()) await webhook.stop();
  });

  describe('TLS', () => {
    it('refuses a client that offers only TLS 1.1, and serves TLS 1.2 with the same client code', async () => {
      // SECLEVEL=0 lets this OpenSSL really offer TLS 1.1, so the refusal is the server's: a protocol_version alert.
      const legacy = {
        ca: webhook.ca,
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      } as const;
      let refusal: NodeJS.ErrnoException | undefined;
      await handshake(webhook.port, legacy).catch((err: NodeJS.ErrnoException) => (refusal = err));
      expect(refusal?.code).to.equal('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');

      const modern = await handshake(webhook.port, { ...legacy, maxVersion: 'TLSv1.2' });
      expect(modern.protocol).to.equal('TLSv1.2');
      expect((await handshake(webhook.port, { ca: webhook.ca })).protocol).to.equal('TLSv1.3');
    });

    it('switches to replaced certificate files without a restart, and ignores a broken pair meanwhile', async () => {
      const webhook = await startWebhook();
      const before = await handshake(webhook.port, { ca: webhook.ca });
      const pid = webhook.proc.pid;

      writeFileSync(join(webhook.certDir, 'tls.crt'), 'not a certificate');
      await new Promise((r) => setTimeout(r, 500));
      expect((await handshake(webhook.port, { ca: webhook.ca })).fingerprint, 'a broken file is not served').to.equal(
        before.fingerprint,
      );

      const fresh = mkdtempSync(join(tmpdir(), 'flink-webhook-rotated-'));
      writeCertificates(fresh);
      for (const file of ['tls.key', 'tls.crt']) {
        copyFileSync(join(fresh, file), join(webhook.certDir, `${file}.new`));
        renameSync(join(webhook.certDir, `${file}.new`), join(webhook.certDir, file)); // atomic, as a Secret update is
      }
      const newCa = `${webhook.ca}${readFileSync(join(fresh, 'ca.crt'), 'utf8')}`;
      await waitFor(
        'the new certificate',
        async () => (await handshake(webhook.port, { ca: newCa })).fingerprint !== before.fingerprint,
      );
      expect(webhook.proc.pid).to.equal(pid);
      expect(webhook.alive()).to.equal(true);
      expect(await webhook.logLine('serving certificate reloaded')).to.not.equal(undefined);
      expect(await webhook.stop()).to.equal(0);
    });
  });

  describe('health and metrics', () => {
    it('answers /healthz and /readyz', async () => {
      expect((await webhook.get('/healthz')).text).to.equal('ok');
      expect((await webhook.get('/readyz')).text).to.equal('ok');
    });

    it('counts reviews by path, kind, operation and verdict, with a latency histogram', async () => {
      const bad = validDeployment();
      delete bad.spec.image;
      await webhook.post('/validate', admissionReview(bad));
      await webhook.post('/mutate', admissionReview(validDeployment()));
      await webhook.post('/validate', 'nonsense');
      const metrics = (await webhook.get('/metrics')).text;
      expect(metrics).to.match(
        /flink_webhook_admission_requests_total\{path="\/validate",kind="FlinkDeployment",operation="CREATE",verdict="denied"\} [1-9]/,
      );
      expect(metrics).to.match(
        /flink_webhook_admission_requests_total\{path="\/mutate",kind="FlinkDeployment",operation="CREATE",verdict="allowed"\} [1-9]/,
      );
      expect(metrics).to.match(
        /flink_webhook_admission_requests_total\{path="\/validate",kind="unknown",operation="unknown",verdict="bad_request"\} [1-9]/,
      );
      expect(metrics).to.match(/flink_webhook_admission_duration_seconds_bucket\{le="0.01",path="\/validate"\} [1-9]/);
    });

    it('logs one JSON line per refused review, without the object; an admitted one only at debug', async () => {
      const d = validDeployment();
      d.spec.flinkConfiguration['s3.secret-key'] = 'hunter2-very-secret';
      await webhook.post('/validate', admissionReview(d, { uid: 'admitted' }));
      delete d.spec.image;
      await webhook.post('/validate', admissionReview(d, { uid: 'log-check' }));
      const line = await webhook.logLine('"uid":"log-check"');
      expect(line).to.not.equal(undefined);
      expect(JSON.parse(line!)).to.include({
        kind: 'FlinkDeployment',
        operation: 'CREATE',
        verdict: 'denied',
        name: 'orders',
      });
      expect(webhook.logs.join('\n')).to.not.include('"uid":"admitted"');
      expect(webhook.logs.join('\n')).to.not.include('hunter2');
    });
  });

  describe('shutdown', () => {
    it('on SIGTERM finishes the review in flight, refuses new connections and exits 0', async () => {
      const body = JSON.stringify(admissionReview(validDeployment(), { uid: 'in-flight' }));
      const socket = connect({ host: '127.0.0.1', port: webhook.port, ca: webhook.ca, servername: 'localhost' });
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      socket.write(
        `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      );
      socket.write(body.slice(0, 40));
      await new Promise((r) => setTimeout(r, 100));

      const exited = new Promise<number | null>((resolve) => webhook.proc.once('exit', resolve));
      webhook.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const refused = await handshake(webhook.port, { ca: webhook.ca }).then(
        () => false,
        () => true,
      );
      expect(refused, 'no new connections once shutting down').to.equal(true);

      // The rest of the body; the client keeps its side open for the answer, as the API server does (a client that
      // half-closes may lose its answer: the server does not keep half-open sockets, which would hold connection slots).
      socket.write(body.slice(40));
      await new Promise<void>((resolve) =>
        socket.on(
          'data',
          () => /\r\n\r\n[\s\S]*"uid":"in-flight"/.test(Buffer.concat(received).toString()) && resolve(),
        ),
      );
      socket.end();
      await new Promise((resolve) => socket.once('close', resolve));
      const response = Buffer.concat(received).toString();
      expect(response).to.match(/^HTTP\/1.1 200/);
      expect(response).to.include('"uid":"in-flight"');
      expect(await exited).to.equal(0);
    });
  });
});
