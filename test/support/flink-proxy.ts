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
  close(): Promise<void>;
}

export async function startFlinkProxy(runnerOverridesFile: string, overridesFile: string): Promise<FlinkProxy> {
  let fault: { path: RegExp; status: number } | undefined;
  let failed = 0;
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
      return void res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: ['injected by the test proxy'] }));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${path}`, { method: req.method, headers: body ? { 'content-type': 'application/json' } : {}, body })
        .then(async (answer) => res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer())))
        .catch(() => res.writeHead(502).end('Flink unreachable'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  // Mirrors the runner's file as it changes (clusters come and go with upgrades).
  let published = '';
  const publish = () => {
    const mapped = JSON.stringify(Object.fromEntries(Object.keys(real()).map((key) => [key, `http://127.0.0.1:${port}/${key}`])));
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
    close: async () => {
      clearInterval(mirror);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
