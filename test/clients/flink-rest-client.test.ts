// The Flink REST client against a JobManager that answers whatever it likes (it runs a user's image): a huge answer,
// one dribbled a byte a second, one that is not JSON. Each a clear error within the client's deadline, and the
// operator's memory stays bounded.
import { expect } from 'chai';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FlinkRestClient, MAX_FLINK_ANSWER_BYTES, RestAddresses } from '../../operator/flink-rest.js';

describe('Flink REST client: bounded whatever the JobManager answers', function () {
  this.timeout(20_000);
  let server: Server;
  let answer: (res: ServerResponse) => void = (res) => res.end('{"jobs":[]}');
  let url = '';
  before(async () => {
    server = createServer((_req, res) => answer(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses a 100 MB answer past its cap, without reading it all', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, ' ');
      let sent = 0;
      const send = () => {
        while (sent < 100 && res.write(chunk)) sent++;
        if (sent < 100) res.once('drain', send);
        else res.end('{}');
      };
      res.on('close', () => (sent = 100));
      send();
    };
    const before = process.memoryUsage().rss;
    const err = (await new FlinkRestClient(url, 10_000).jobs().catch((e: unknown) => e)) as Error;
    expect(err.message).to.equal(`Flink REST GET /jobs/overview: the answer exceeds ${MAX_FLINK_ANSWER_BYTES} bytes`);
    // 16 MiB read, in chunks and then joined; nowhere near the 100 MB sent.
    expect((process.memoryUsage().rss - before) / 2 ** 20, 'MB of memory it took').to.be.below(80);
  });

  it('gives up on an answer dribbled a byte a second at its deadline', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 1000);
      res.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    const err = (await new FlinkRestClient(url, 1500).jobs().catch((e: unknown) => e)) as Error;
    expect(err.message).to.match(/^Flink REST GET \/jobs\/overview: /);
    expect(Date.now() - started).to.be.within(1400, 2500);
  });

  it('refuses a 200 that is not JSON, and stops when its signal aborts', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    expect(((await new FlinkRestClient(url).jobs().catch((e: unknown) => e)) as Error).message).to.equal(
      'Flink REST GET /jobs/overview: the answer is not JSON',
    );
    answer = () => undefined; // never answers
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('leadership lost')), 200);
    const started = Date.now();
    await new FlinkRestClient(url, 10_000, controller.signal).jobs().catch(() => undefined);
    expect(Date.now() - started, 'aborted, not waiting for the 10 s deadline').to.be.below(1000);
  });

  it('keeps its deadline through garbage collections when it also has an abort signal (an answer that stops midway)', async () => {
    // Node 20's AbortSignal.any holds a timeout signal weakly: collected while the body was read, it never fired and
    // the call hung for ever.
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).write('{"jobs":');
    const collect = garbageCollector();
    const collecting = setInterval(collect, 20);
    const started = Date.now();
    try {
      const err = (await new FlinkRestClient(url, 800, new AbortController().signal)
        .jobs()
        .catch((e: unknown) => e)) as Error;
      expect(err.message).to.equal('Flink REST GET /jobs/overview: no complete answer within 800 ms');
    } finally {
      clearInterval(collecting);
    }
    expect(Date.now() - started).to.be.within(700, 3000);
  });
});

/** `gc()` without starting Node with --expose-gc. */
function garbageCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('Flink REST addresses from the overrides file', () => {
  it('sees a replacement even when it keeps the size and the mtime of the one before (one file-system clock tick)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rest-addresses-')), 'overrides.json');
    const tick = new Date('2026-01-01T00:00:00Z');
    writeFileSync(file, JSON.stringify({ 'ns/a': 'http://127.0.0.1:1111' }));
    utimesSync(file, tick, tick);
    const addresses = new RestAddresses(file);
    expect(addresses.url('ns', 'a')).to.equal('http://127.0.0.1:1111');
    writeFileSync(file, JSON.stringify({ 'ns/a': 'http://127.0.0.1:2222' }));
    utimesSync(file, tick, tick);
    await new Promise((r) => setTimeout(r, 1100));
    expect(addresses.url('ns', 'a')).to.equal('http://127.0.0.1:2222');
    expect(addresses.url('ns', 'b')).to.equal('http://b-rest.ns:8081');
  });
});
