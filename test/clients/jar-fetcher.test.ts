// The session-job jar fetcher against real HTTP servers and a real CONNECT proxy on loopback: what a user sees for
// each bad jar (a message naming the URI, transient or not), the cache that spares a second download, and the
// restricted-host rule enforced on the address actually connected to.
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { lookup as dnsLookup } from 'node:dns';
import { JarFetchError, JarFetcher, type JarFetcherOptions } from '../../operator/artifacts/jar-fetcher.js';
import { parseArtifactHeaders } from '../../api/reconcile/session-job.js';
import { proxyFor } from '../../operator/artifacts/proxy.js';
import { startConnectProxy } from '../../local/artifact-host.js';

const JAR = Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(2000, 7)]);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ port: number; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server };
}

/** A resolver that knows `jars.test` as 127.0.0.1 and nothing else. */
const fakeLookup = ((
  host: string,
  options: object,
  callback: (err: Error | null, addresses: { address: string; family: number }[]) => void,
) => {
  if (host === 'jars.test') return callback(null, [{ address: '127.0.0.1', family: 4 }]);
  const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  callback(err, []);
}) as unknown as typeof dnsLookup;

function fetcher(overrides: Partial<JarFetcherOptions> = {}): JarFetcher {
  return new JarFetcher({
    cacheDir: mkdtempSync(join(tmpdir(), 'jar-cache-')),
    maxBytes: 10_000,
    allowedSchemes: ['https', 'http'],
    disallowRestrictedHosts: false,
    totalTimeoutMs: 5000,
    environment: {},
    lookup: fakeLookup,
    ...overrides,
  });
}

async function refusal(promise: Promise<unknown>): Promise<JarFetchError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(JarFetchError);
    return err as JarFetchError;
  }
  throw new Error('the fetch succeeded');
}

describe('session-job jar fetcher', function () {
  this.timeout(20_000);
  const servers: Server[] = [];
  let requests: { url: string; headers: IncomingMessage['headers'] }[] = [];
  let base = '';
  let failFirst = 0;

  before(async () => {
    const { port, server } = await serve((req, res) => {
      requests.push({ url: req.url!, headers: req.headers });
      const path = req.url!;
      if (path === '/job.jar') {
        if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
        return res.writeHead(200, { etag: '"v1"', 'content-length': JAR.length }).end(JAR);
      }
      if (path === '/flaky.jar') return failFirst-- > 0 ? res.writeHead(503).end('busy') : res.writeHead(200).end(JAR);
      if (path === '/page.jar') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      if (path === '/big.jar') return res.writeHead(200, { 'content-length': 20_000 }).end(Buffer.alloc(20_000));
      if (path === '/endless.jar') {
        res.writeHead(200);
        res.write(JAR);
        const timer = setInterval(() => res.write(Buffer.alloc(4096)), 5);
        res.on('close', () => clearInterval(timer));
        return undefined;
      }
      if (path === '/loop.jar') return res.writeHead(302, { location: '/loop.jar' }).end();
      if (path === '/to-loopback.jar')
        return res.writeHead(302, { location: `http://127.0.0.1:${port}/job.jar` }).end();
      if (path === '/to-file.jar') return res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return res.writeHead(404).end('not found');
    });
    servers.push(server);
    base = `http://127.0.0.1:${port}`;
  });
  beforeEach(() => (requests = []));
  after(() => servers.forEach((s) => s.close()));

  it('downloads a jar once and reuses it while the server answers 304 to its ETag; headers from the configuration are sent', async () => {
    const f = fetcher();
    const headers = parseArtifactHeaders('x-token:abc, x-team: orders');
    const first = await f.fetch(`${base}/job.jar`, headers);
    expect(first).to.include({ bytes: JAR.length, downloaded: true });
    const second = await f.fetch(`${base}/job.jar`, headers);
    expect(second).to.include({ path: first.path, downloaded: false });
    expect(f.downloads).to.equal(1);
    expect(requests[0]!.headers).to.include({ 'x-token': 'abc', 'x-team': 'orders' });
    expect(requests[1]!.headers['if-none-match']).to.equal('"v1"');
  });

  it('twenty concurrent fetches of one URI make one request', async () => {
    const f = fetcher();
    const results = await Promise.all(Array.from({ length: 20 }, () => f.fetch(`${base}/job.jar`)));
    expect(new Set(results.map((r) => r.path)).size).to.equal(1);
    expect(requests).to.have.length(1);
  });

  it('404 and a page that is not a jar: errors naming the URI', async () => {
    const missing = await refusal(fetcher().fetch(`${base}/nope.jar`));
    expect(missing.message).to.equal(`cannot fetch ${base}/nope.jar: HTTP 404`);
    const page = await refusal(fetcher().fetch(`${base}/page.jar`));
    expect(page.message).to.match(/page\.jar: it is not a jar \(no zip header; it starts with "<htm"\)/);
  });

  it('a 5xx is an error, and the next attempt succeeds once the server recovers', async () => {
    failFirst = 1;
    const f = fetcher();
    const busy = await refusal(f.fetch(`${base}/flaky.jar`));
    expect(busy.message).to.match(/HTTP 503/);
    expect((await f.fetch(`${base}/flaky.jar`)).downloaded).to.equal(true);
  });

  it('over the size cap, by its Content-Length or while streaming', async () => {
    expect((await refusal(fetcher().fetch(`${base}/big.jar`))).message).to.match(
      /20000 bytes is over the 10000-byte limit/,
    );
    expect((await refusal(fetcher().fetch(`${base}/endless.jar`))).message).to.match(/more than the 10000-byte limit/);
  });

  it('a redirect loop stops after 5 hops; a redirect to a disallowed scheme is refused', async () => {
    const loop = await refusal(fetcher().fetch(`${base}/loop.jar`));
    expect(loop.message).to.match(/more than 5 redirects/);
    expect(requests).to.have.length(6);
    expect((await refusal(fetcher().fetch(`${base}/to-file.jar`))).message).to.match(/scheme "file" is not allowed/);
  });

  it('a disallowed scheme is refused before any request', async () => {
    const f = fetcher({ allowedSchemes: ['https'] });
    expect((await refusal(f.fetch(`${base}/job.jar`))).message).to.match(
      /scheme "http" is not allowed \(kubernetes\.operator\.user\.artifacts\.allowed-schemes: https\)/,
    );
    expect(requests).to.have.length(0);
  });

  it('with the restriction on: a name resolving to loopback, a loopback literal and a redirect to loopback are refused, without a request to them', async () => {
    const port = new URL(base).port;
    const f = fetcher({ disallowRestrictedHosts: true });
    expect((await refusal(f.fetch(`http://jars.test:${port}/job.jar`))).message).to.match(
      /host jars\.test resolves to a restricted address \(127\.0\.0\.1\)/,
    );
    expect((await refusal(f.fetch(`${base}/job.jar`))).message).to.match(/host 127\.0\.0\.1 is a restricted address/);
    expect(requests).to.have.length(0);
    // Positive control: the same name with the restriction off connects through the same lookup.
    expect((await fetcher().fetch(`http://jars.test:${port}/job.jar`)).downloaded).to.equal(true);
  });

  it('through a CONNECT proxy from HTTP_PROXY; a proxy that refuses the tunnel is a clear error; NO_PROXY goes direct', async () => {
    const port = Number(new URL(base).port);
    const proxy = await startConnectProxy((host, p) => (host === 'jars.example' && p === 80 ? port : undefined));
    try {
      const f = fetcher({ environment: { HTTP_PROXY: proxy.url } });
      expect((await f.fetch('http://jars.example/job.jar')).downloaded).to.equal(true);
      expect(proxy.tunnels.get('jars.example:80')).to.equal(1);
      const refused = await refusal(f.fetch('http://elsewhere.example/job.jar'));
      expect(refused.message).to.equal(
        'cannot fetch http://elsewhere.example/job.jar: the proxy refused to connect to it (HTTP 403)',
      );
      const direct = fetcher({ environment: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,.test' } });
      expect((await direct.fetch(`http://jars.test:${port}/job.jar`)).downloaded).to.equal(true);
      expect(proxy.tunnels.size).to.equal(1);
    } finally {
      await proxy.stop();
    }
  });

  it('file:// reads a jar mounted into the operator pod, when the scheme is allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jar-file-'));
    writeFileSync(join(dir, 'job.jar'), JAR);
    const f = fetcher({ allowedSchemes: ['https', 'file'] });
    expect(await f.fetch(`file://${dir}/job.jar`)).to.deep.equal({
      path: join(dir, 'job.jar'),
      bytes: JAR.length,
      downloaded: false,
    });
    expect((await refusal(f.fetch(`file://${dir}/missing.jar`))).message).to.match(/no such file in the operator pod/);
  });
});

describe('proxy selection from the environment', () => {
  const env = {
    HTTPS_PROXY: 'proxy.corp:3128',
    http_proxy: 'http://plain.corp:8080',
    NO_PROXY: 'internal.corp,.svc,10.0.0.1,[::1]:8443,registry:5000',
  };
  const cases: [string, string | undefined][] = [
    ['https://repo.example.com/a.jar', 'http://proxy.corp:3128'],
    ['http://repo.example.com/a.jar', 'http://plain.corp:8080'],
    ['https://internal.corp/a.jar', undefined],
    ['https://nexus.internal.corp/a.jar', undefined],
    ['https://jars.flink.svc/a.jar', undefined],
    ['https://10.0.0.1/a.jar', undefined],
    ['https://[::1]:8443/a.jar', undefined],
    ['https://[::1]/a.jar', 'http://proxy.corp:3128'],
    ['https://registry:5000/a.jar', undefined],
    ['https://registry/a.jar', 'http://proxy.corp:3128'],
    ['https://notinternal.corp.example/a.jar', 'http://proxy.corp:3128'],
  ];
  for (const [url, expected] of cases) {
    it(`${url} → ${expected ?? 'direct'}`, () => expect(proxyFor(new URL(url), env)).to.equal(expected));
  }
  it('NO_PROXY=* sends everything direct', () =>
    expect(proxyFor(new URL('https://a.b/'), { HTTPS_PROXY: 'p:1', NO_PROXY: '*' })).to.equal(undefined));
});
