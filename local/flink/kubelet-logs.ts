// The kubelet's log endpoint of the simulated nodes, which the API server calls for pods/log (`kubectl logs`, and
// the operator reading a crashed JobManager's cause): GET /containerLogs/{namespace}/{pod}/{container} with
// `previous`, `tailLines` and `limitBytes` as the kubelet reads them. HTTPS with a certificate of the cluster's CA;
// only a client certificate of that CA (the API server's) is let in, as a kubelet would.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

/** A container's log, or why there is none (the kubelet's words, answered as 400 as the API server relays them). */
export type ContainerLog = { text: string } | { error: string };
export type ContainerLogs = (namespace: string, pod: string, container: string, previous: boolean) => ContainerLog;

export interface KubeletLogServerOptions {
  port: number;
  cert: string;
  key: string;
  ca: string;
  logs: ContainerLogs;
}

export async function startKubeletLogServer(options: KubeletLogServerOptions): Promise<{ close(): Promise<void> }> {
  const server = createServer(
    {
      cert: readFileSync(options.cert),
      key: readFileSync(options.key),
      ca: readFileSync(options.ca),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (req.method !== 'GET' || !match)
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      const [namespace, pod, container] = match.slice(1).map(decodeURIComponent) as [string, string, string];
      const log = options.logs(namespace, pod, container, url.searchParams.get('previous') === 'true');
      if ('error' in log) return void res.writeHead(400, { 'content-type': 'text/plain' }).end(log.error);
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(limitLog(log.text, numberParam(url, 'tailLines'), numberParam(url, 'limitBytes')));
    },
  );
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, '127.0.0.1', resolve));
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The kubelet's order: the last `tailLines` lines, then at most `limitBytes` of them from their start. */
export function limitLog(text: string, tailLines?: number, limitBytes?: number): string {
  let out = text;
  if (tailLines !== undefined) {
    const lines = out.split(/(?<=\n)/);
    out = lines.slice(Math.max(0, lines.length - tailLines)).join('');
  }
  if (limitBytes !== undefined) out = Buffer.from(out).subarray(0, limitBytes).toString('utf8');
  return out;
}

function numberParam(url: URL, name: string): number | undefined {
  const value = Number(url.searchParams.get(name) ?? Number.NaN);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}
