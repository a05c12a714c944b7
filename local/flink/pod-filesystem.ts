// A JobManager pod sees its volumes at the paths its spec mounts them (`/flink-data/savepoints`); the local Flink
// runs on this machine, where they live under the stack's files root. Configuration is mapped when the runner writes
// it (local-config.ts); this maps the paths that arrive over REST — a savepoint's target directory, a savepoint to
// dispose of or to restore from — in a thin proxy in front of each local Flink, the address the stack publishes.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { podPathToLocal } from './local-config.js';

/** The request fields of Flink's REST API that name a path on the JobManager's file system. */
const PATH_FIELDS = ['target-directory', 'targetDirectory', 'savepoint-path', 'savepointPath'];
/** JSON requests with paths are small; anything larger (a jar upload) streams through untouched. */
const MAX_REWRITTEN_BYTES = 1 << 20;

/** A request body with each path field mapped from the pod's file system to this machine's; other bodies as they are. */
export function localizeRequestBody(body: Buffer, filesRoot: string): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  const fields = parsed as Record<string, unknown>;
  let changed = false;
  for (const key of PATH_FIELDS) {
    const value = fields[key];
    if (typeof value !== 'string') continue;
    const local = podPathToLocal(value, filesRoot);
    if (local !== value) [fields[key], changed] = [local, true];
  }
  return changed ? Buffer.from(JSON.stringify(fields)) : body;
}

export interface PodFilesystemProxy {
  url: string;
  close(): Promise<void>;
}

export async function startPodFilesystemProxy(flinkUrl: string, filesRoot: string): Promise<PodFilesystemProxy> {
  const target = new URL(flinkUrl);
  const server: Server = createServer((req, res) => {
    const forward = (body?: Buffer) => {
      const headers = { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      if (body) upstream.end(body);
      else req.pipe(upstream);
    };
    if (!isSmallJson(req)) return forward();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(localizeRequestBody(Buffer.concat(chunks), filesRoot)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isSmallJson(req: IncomingMessage): boolean {
  const length = Number(req.headers['content-length'] ?? Infinity);
  return (
    req.method !== 'GET' &&
    (req.headers['content-type'] ?? '').startsWith('application/json') &&
    length <= MAX_REWRITTEN_BYTES
  );
}
