// The local stack's stand-in for `https://artifacts.example.com/maven2/…`, the host the upstream session-job
// examples name: an HTTPS server with a certificate from its own CA, reached through a CONNECT proxy — the way an
// operator in a real cluster reaches the outside (HTTPS_PROXY, and a CA file it is told to trust). The operator
// needs no rewriting of URIs: it is started with HTTPS_PROXY pointing here and NODE_EXTRA_CA_CERTS naming the CA.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { issueCertificate, issueCertificates } from '../webhook/certs.js';

export const ARTIFACT_HOST = 'artifacts.example.com';

export interface ConnectProxy {
  url: string;
  /** Tunnels opened, by target. */
  tunnels: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * A forward proxy that only tunnels (CONNECT) to the targets `route` maps to a local port, and answers 403 to
 * anything else — so a test or the stack can tell exactly where a download went.
 */
export async function startConnectProxy(
  route: (host: string, port: number) => number | undefined,
): Promise<ConnectProxy> {
  const tunnels = new Map<string, number>();
  const open = new Set<Socket>();
  const server = createHttpServer((_req, res) => res.writeHead(403).end('this proxy only tunnels (CONNECT)\n'));
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const [host = '', portText = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    const local = route(host.toLowerCase(), Number(portText));
    if (local === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    tunnels.set(`${host}:${portText}`, (tunnels.get(`${host}:${portText}`) ?? 0) + 1);
    const upstream = connect(local, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    open.add(client).add(upstream);
    const end = () => {
      upstream.destroy();
      client.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    upstream.on('error', end).on('close', end);
    client.on('error', end).on('close', end);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    stop: () => {
      for (const socket of open) socket.destroy();
      return close(server);
    },
  };
}

export interface ArtifactHost {
  /** For the operator's environment: HTTPS_PROXY and the CA file for NODE_EXTRA_CA_CERTS. */
  proxyUrl: string;
  caFile: string;
  /** Jar bodies served (a 304 is not a download). */
  served(): number;
  /**
   * Another HTTPS host behind the same proxy, with a certificate from the same CA, answering with `handler` — for a
   * test that needs a host that misbehaves.
   */
  addHost(name: string, handler: RequestListener): Promise<void>;
  stop(): Promise<void>;
}

/** Serves `jar` for every `/maven2/….jar` path of artifacts.example.com, with an ETag and Last-Modified. */
export async function startArtifactHost(jar: string, stateDir: string): Promise<ArtifactHost> {
  const { ca, serving } = issueCertificates([ARTIFACT_HOST], 30);
  const caFile = join(stateDir, 'artifact-host-ca.crt');
  writeFileSync(caFile, ca.certPem);
  const body = readFileSync(jar);
  const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
  const lastModified = new Date().toUTCString();
  let served = 0;
  const https = createHttpsServer({ cert: serving.certPem, key: serving.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') return res.writeHead(405).end();
    if (!path.startsWith('/maven2/') || !path.endsWith('.jar'))
      return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
    if (req.method === 'GET') served++;
    res.writeHead(200, {
      'content-type': 'application/java-archive',
      'content-length': body.length,
      etag,
      'last-modified': lastModified,
    });
    res.end(req.method === 'GET' ? body : undefined);
  });
  const hosts = new Map<string, number>([[ARTIFACT_HOST, await listen(https)]]);
  const others: Server[] = [];
  const proxy = await startConnectProxy((host, port) => (port === 443 ? hosts.get(host) : undefined));
  return {
    proxyUrl: proxy.url,
    caFile,
    served: () => served,
    addHost: async (name, handler) => {
      const cert = issueCertificate(ca, { commonName: name, hosts: [name], usage: 'server' }, 30);
      const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' }, handler);
      others.push(server);
      hosts.set(name, await listen(server));
    },
    stop: async () => {
      await proxy.stop();
      await Promise.all(others.map(close));
      await close(https);
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
