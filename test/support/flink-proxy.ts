// A fault-injecting proxy in front of every real Flink of the stack: it publishes its own REST-address file (the
// runner's, each address replaced by `http://127.0.0.1:<port>/<namespace>/<name>`) for an operator started with it,
// forwards each call to the real JobManager, and answers chosen paths with an error while a fault is on.
import { createServer, type Server } from 'node:http';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface FlinkProxy {
  /** The REST-address file to give `flink-operator --flink-rest-overrides`. */
  overridesFile: string;
  /** While set, calls whose path matches get this HTTP status; every such call is counted. */
  fail(path: RegExp | undefined, status?: number): void;
  failedCalls(): number;
  /**
   * While set, calls whose path matches are held — before they reach Flink, or after Flink answered with the answer
   * kept back — until the hold is lifted, when they are dropped (the caller, say, was killed meanwhile).
   */
  hold(path: RegExp | undefined, phase?: 'before-flink' | 'after-flink'): void;
  heldCalls(): number;
  close(): Promise<void>;
}

export async function startFlinkProxy(runnerOverridesFile: string, overridesFile: string): Promise<FlinkProxy> {
  let fault: { path: RegExp; status: number } | undefined;
  let failed = 0;
  let holding: { path: RegExp; phase: 'before-flink' | 'after-flink' } | undefined;
  let held: (() => void)[] = [];
  let heldCount = 0;
  const real = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(runnerOverridesFile, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  const server: Server = createServer((req, res) => {
    const [, namespace, name, ...rest] = (req.url ?? '/').split('/');
    const target = real()[`${namespace}/${name}`];
    const path = `/${rest.join('/')}`;
    if (!target) return void res.writeHead(502).end('no such Flink');
    if (fault && fault.path.test(path.split('?')[0]!)) {
      failed++;
      return void res
        .writeHead(fault.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: ['injected by the test proxy'] }));
    }
    const hold = holding && holding.path.test(path.split('?')[0]!) ? holding.phase : undefined;
    if (hold) heldCount++;
    const drop = () => res.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hold === 'before-flink') return void held.push(drop);
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      // The caller's content type as it sent it: a multipart jar upload carries its boundary there.
      const type = req.headers['content-type'];
      fetch(`${target}${path}`, { method: req.method, headers: body && type ? { 'content-type': type } : {}, body })
        .then(async (answer) => {
          const payload = Buffer.from(await answer.arrayBuffer());
          if (hold === 'after-flink') return void held.push(drop);
          res
            .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
            .end(payload);
        })
        .catch(() => res.writeHead(502).end('Flink unreachable'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  // Mirrors the runner's file as it changes (clusters come and go with upgrades).
  let published = '';
  const publish = () => {
    const mapped = JSON.stringify(
      Object.fromEntries(Object.keys(real()).map((key) => [key, `http://127.0.0.1:${port}/${key}`])),
    );
    if (mapped === published) return;
    writeFileSync(`${overridesFile}.tmp`, mapped);
    renameSync(`${overridesFile}.tmp`, overridesFile);
    published = mapped;
  };
  publish();
  const mirror = setInterval(publish, 250);
  return {
    overridesFile,
    fail: (path, status = 500) => (fault = path ? { path, status } : undefined),
    failedCalls: () => failed,
    hold: (path, phase = 'before-flink') => {
      holding = path ? { path, phase } : undefined;
      if (!path) {
        held.forEach((drop) => drop());
        held = [];
      }
    },
    heldCalls: () => heldCount,
    close: async () => {
      clearInterval(mirror);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
