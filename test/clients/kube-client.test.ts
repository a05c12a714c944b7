// kube/client.ts and kube/kubeconfig.ts against a local HTTPS server that answers like an API server would — or
// like a broken one: each request carries the kubeconfig's current credentials (a token file re-read after a 401),
// and every call is bounded (a total deadline, a size cap, a fence) whatever the server does.
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificates } from '../../webhook/certs.js';
import { KubeApiError, KubeClient } from '../../kube/client.js';
import { loadKubeConfig } from '../../kube/kubeconfig.js';
import { Leadership, LeadershipLost } from '../../operator/leader-election.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('kube client: current credentials and bounded calls', function () {
  this.timeout(20_000);
  const { ca, serving } = issueCertificates(['127.0.0.1'], 1);
  const dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
  let server: Server;
  let handler: Handler = (_req, res) => res.end('{}');
  let port = 0;
  const seen: (string | undefined)[] = [];

  before(async () => {
    server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      seen.push(req.headers.authorization);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => (seen.length = 0));

  /** A kubeconfig whose user reads kubectl's `tokenFile`, and a client made from it. */
  async function clientWithTokenFile(options: Parameters<typeof KubeClient.fromKubeConfig>[2] = {}) {
    const tokenFile = join(dir, `token-${Math.random()}`);
    writeFileSync(tokenFile, 'first');
    const file = join(dir, `kubeconfig-${Math.random()}`);
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'c',
        clusters: [
          {
            name: 'k',
            cluster: {
              server: `https://127.0.0.1:${port}`,
              'certificate-authority-data': Buffer.from(ca.certPem).toString('base64'),
            },
          },
        ],
        users: [{ name: 'u', user: { tokenFile } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }),
    );
    const kc = (await loadKubeConfig(file))!;
    return { tokenFile, client: KubeClient.fromKubeConfig(kc, 'test', options) };
  }

  it("sends the token of kubectl's tokenFile key, and after a 401 reads the file afresh and tries once more", async () => {
    const { tokenFile, client } = await clientWithTokenFile();
    handler = (req, res) => res.end(JSON.stringify({ kind: 'Thing', token: req.headers.authorization }));
    expect(await client.get('/api/v1/x')).to.have.property('token', 'Bearer first');
    writeFileSync(tokenFile, 'second'); // rotated; the old token is revoked at once
    await new Promise((r) => setTimeout(r, 1100)); // past the one-refresh-a-second guard
    handler = (req, res) =>
      req.headers.authorization === 'Bearer second'
        ? res.end('{"ok":true}')
        : res.writeHead(401).end('{"kind":"Status","reason":"Unauthorized","message":"Unauthorized"}');
    expect(await client.get('/api/v1/x')).to.deep.equal({ ok: true });
    expect(seen).to.deep.equal(['Bearer first', 'Bearer first', 'Bearer second']);
    client.close();
  });

  it("reports a lasting 401 once per call to its listener, and throws the API server's error", async () => {
    const refused: number[] = [];
    const { client } = await clientWithTokenFile({ onAuthFailure: (err) => refused.push(err.status) });
    handler = (_req, res) =>
      res.writeHead(403).end('{"kind":"Status","reason":"Forbidden","message":"leases is forbidden"}');
    const err = await client.get('/apis/coordination.k8s.io/v1/namespaces/x/leases/l').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(KubeApiError).and.include({ status: 403, reason: 'Forbidden' });
    expect(refused).to.deep.equal([403]);
    client.close();
  });

  it('refuses a 2xx whose body is not a JSON object', async () => {
    const { client } = await clientWithTokenFile();
    handler = (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end("<html>a proxy's login page</html>");
    const err = (await client.get('/api/v1/x').catch((e: unknown) => e)) as Error;
    expect(err.message).to.match(/not a JSON object/);
    client.close();
  });

  it('gives up on a server that dribbles one byte a second, at the total deadline', async () => {
    const { client } = await clientWithTokenFile({ timeoutMs: 1500 });
    handler = (_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write(' '), 1000);
      res.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    const err = (await client.get('/api/v1/x').catch((e: unknown) => e)) as Error;
    expect(err.message).to.match(/no complete answer within 1500 ms/);
    expect(Date.now() - started).to.be.below(3000);
    client.close();
  });

  it('stops reading an answer larger than its cap', async () => {
    const { client } = await clientWithTokenFile({ maxResponseBytes: 1024 * 1024 });
    handler = (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const send = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', send);
        else res.end();
      };
      send();
    };
    const err = (await client.get('/api/v1/x').catch((e: unknown) => e)) as Error;
    expect(err.message).to.match(/exceeds 1048576 bytes/);
    client.close();
  });

  it('a fenced client sends nothing once its term of leadership has run out, and aborts what is in flight', async () => {
    const { client } = await clientWithTokenFile();
    const term = new Leadership(Date.now() + 300);
    const fenced = client.fenced(term);
    handler = (_req, res) => setTimeout(() => res.end('{}'), 1000);
    const inFlight = fenced.get('/api/v1/slow').catch((e: unknown) => e);
    expect(((await inFlight) as Error).name, 'the request in flight is aborted when the term ends').to.equal(
      'AbortError',
    );
    const requests = seen.length;
    const refused = await fenced.replace('/api/v1/x', { kind: 'X' }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(LeadershipLost);
    expect(seen.length, 'nothing reached the server').to.equal(requests);
    client.close();
  });

  it('a term is over by the clock even when no timer could run (a process resumed from SIGSTOP)', () => {
    const term = new Leadership(Date.now() - 1);
    expect(() => term.check()).to.throw(LeadershipLost);
    expect(term.signal.aborted).to.equal(true);
    const renewed = new Leadership(Date.now() + 10_000);
    renewed.extend(Date.now() + 20_000);
    expect(() => renewed.check()).to.not.throw();
    renewed.end();
  });
});
