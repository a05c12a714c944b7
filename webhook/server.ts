// The HTTPS admission server: bodies in, AdmissionReviews out. Every decision is made in api/admission.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  BadReview,
  externalFactsNeeded,
  jsonShapeProblem,
  mutate,
  parseAdmissionReview,
  validate,
  type AdmissionRequest,
  type AdmissionReviewOut,
} from '../api/admission.js';
import type { FlatConfig } from '../api/flink-config.js';
import { validateResource } from '../api/validation/index.js';
import { KINDS } from '../api/schema/crd.js';
import { resolveFacts, withoutKubernetesApi, type ClusterLookups, type Lookup } from './facts.js';
import { createMetrics, type Verdict } from './metrics.js';
import { secureContextOptions, type CertificateSource } from './tls.js';

/** The API server's own limit on a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Open connections at once: the API server keeps a small pool; more is someone else holding memory. */
export const MAX_CONNECTIONS = 512;
/** Bodies larger than this yield to the event loop between parsing, the shape check and the rules. */
const YIELD_ABOVE_BYTES = 64 * 1024;
/** A TLS handshake not finished by then is dropped: an idle, half-open connection costs memory and gives nothing. */
export const HANDSHAKE_TIMEOUT_MS = 5000;

export interface WebhookOptions {
  port: number;
  host?: string;
  certificates: CertificateSource;
  operatorConfig: FlatConfig;
  logger: Logger;
  /** The cluster's FlinkDeployments and ServiceAccounts; without them, rules that need them admit with a warning. */
  cluster?: ClusterLookups;
  /** A client that has not sent its whole request by then gets 408 (the API server gives up after ≤ 30 s anyway). */
  requestTimeoutMs?: number;
  dnsTimeoutMs?: number;
  /** How jar hosts are resolved (default: the system resolver); tests give a slow stand-in. */
  lookup?: Lookup;
}

export interface WebhookServer {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight reviews finish, then resolves. */
  close(): Promise<void>;
}

export async function startWebhookServer(options: WebhookOptions): Promise<WebhookServer> {
  const { logger } = options;
  const metrics = createMetrics();
  const cluster = options.cluster ?? withoutKubernetesApi;
  let shuttingDown = false;
  warmUp();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok'));
  app.get(
    '/readyz',
    (_req, res) =>
      void (shuttingDown
        ? res.status(503).type('text/plain').send('shutting down')
        : res.type('text/plain').send('ok')),
  );
  app.get(
    '/metrics',
    async (_req, res) => void res.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  /** One review, from its body to the answer to send: shared by the direct route and express's. */
  const review = async (path: AdmissionPath, raw: Buffer): Promise<Answer> => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let request: AdmissionRequest;
    try {
      // Each phase (parse, shape check, rules) is bounded; for a large body other requests — /healthz too — get a
      // turn between them (a typical review of a few KB is answered in well under a millisecond without).
      const large = raw.length > YIELD_ABOVE_BYTES;
      const body = parseJson(raw);
      if (large) await setImmediate();
      request = parseAdmissionReview(body);
      if (large) await setImmediate();
    } catch (err) {
      if (!(err instanceof BadReview)) throw err;
      metrics.record(path, 'unknown', 'unknown', 'bad_request', seconds());
      logger.info(
        { path, status: 400, reason: err.message },
        'rejected a request that is not a usable AdmissionReview',
      );
      return { status: 400, type: 'text/plain; charset=utf-8', body: `${err.message}\n` };
    }
    let answer: AdmissionReviewOut;
    if (path === '/mutate') {
      answer = mutate(request);
    } else {
      const facts = await resolveFacts(
        externalFactsNeeded(request, options.operatorConfig),
        request.namespace,
        cluster,
        options.dnsTimeoutMs ?? 2000,
        options.lookup,
      );
      answer = validate(request, { operatorConfig: options.operatorConfig, ...facts });
    }
    const verdict: Verdict = !answer.response.allowed ? 'denied' : answer.response.patch ? 'patched' : 'allowed';
    const duration = seconds();
    metrics.record(path, request.kind.kind, request.operation, verdict, duration);
    // A refusal is news to whoever reads the log; an admission is the API server's audit log's to keep (upstream too
    // logs reviews at debug), and a line per review costs a write per review.
    logger[verdict === 'denied' ? 'info' : 'debug'](
      {
        path,
        uid: request.uid,
        kind: request.kind.kind,
        operation: request.operation,
        namespace: request.namespace,
        name: request.name,
        verdict,
        dryRun: request.dryRun,
        ms: Math.round(duration * 1e4) / 10,
      },
      'admission review',
    );
    return { status: 200, type: 'application/json; charset=utf-8', body: JSON.stringify(answer) };
  };
  const admission = (path: AdmissionPath) => async (req: Request, res: Response) => {
    const answer = await review(path, req.body as Buffer);
    res.status(answer.status).type(answer.type).send(answer.body);
  };

  // No content encodings: a small gzip body could inflate far past the limit before anything looks at it (415).
  const readBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES, inflate: false });
  for (const path of ['/mutate', '/validate'] as const) app.post(path, requireJson, readBody, admission(path));
  app.use((req: Request, res: Response) => {
    res
      .status(404)
      .type('text/plain')
      .send(`no route ${req.method} ${req.path}; POST AdmissionReviews to /mutate or /validate\n`);
  });
  // Body-reading failures (too large, aborted, bad encoding) and anything unforeseen: one line, never a stack trace.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    const reason =
      err.type === 'entity.too.large'
        ? `request body exceeds ${MAX_BODY_BYTES} bytes`
        : status === 500
          ? 'internal error'
          : err.message;
    logger[status === 500 ? 'error' : 'info'](
      { path: req.path, status, reason, err: status === 500 ? err : undefined },
      'request failed',
    );
    if (!res.headersSent) res.status(status).set('Connection', 'close').type('text/plain').send(`${reason}\n`);
  });

  /**
   * The API server's reviews — POST, application/json, a Content-Length within the limit, no encoding — go straight
   * to the review, not through express's router and body parser (a third of the time of a small review); anything
   * else, every refusal included, takes express's routes as before.
   */
  const direct = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = req.url === '/validate' || req.url === '/mutate' ? req.url : undefined;
    const length = Number(req.headers['content-length']);
    const plain =
      (req.headers['content-encoding'] ?? 'identity') === 'identity' && req.headers['transfer-encoding'] === undefined;
    if (
      req.method !== 'POST' ||
      !path ||
      !plain ||
      !Number.isInteger(length) ||
      length > MAX_BODY_BYTES ||
      !JSON_TYPE.test(req.headers['content-type'] ?? '')
    )
      return false;
    const chunks: Buffer[] = [];
    req.on('error', () => res.destroy()); // a client gone mid-body: nothing to answer
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      review(path, Buffer.concat(chunks)).then(
        (answer) =>
          res
            .writeHead(answer.status, { 'content-type': answer.type, 'content-length': Buffer.byteLength(answer.body) })
            .end(answer.body),
        (err: Error) => {
          logger.error({ path, status: 500, reason: 'internal error', err }, 'request failed');
          if (!res.headersSent)
            res
              .writeHead(500, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
              .end('internal error\n');
        },
      );
    });
    return true;
  };

  const server = createServer(
    {
      ...secureContextOptions(options.certificates.current()),
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      headersTimeout: options.requestTimeoutMs ?? 10_000,
      connectionsCheckingInterval: 1000,
      keepAliveTimeout: 30_000,
    },
    (req, res) => {
      if (!direct(req, res)) app(req, res);
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  options.certificates.onChange((next) => {
    server.setSecureContext(secureContextOptions(next));
    logger.info('serving certificate reloaded');
  });
  server.on('tlsClientError', (err) => logger.debug({ reason: err.message }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ port }, 'admission webhook listening');

  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        shuttingDown = true;
        options.certificates.stop();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** The API server sends `application/json`; anything else is a client that is not the API server. */
function requireJson(req: Request, res: Response, next: NextFunction): void {
  if (req.is('application/json')) return next();
  res
    .status(415)
    .set('Connection', 'close')
    .type('text/plain')
    .send(`Content-Type must be application/json (got ${req.get('content-type') ?? 'none'})\n`);
}

type AdmissionPath = '/mutate' | '/validate';
interface Answer {
  status: number;
  type: string;
  body: string;
}

/** What express's `req.is('application/json')` accepts, as the API server sends it. */
const JSON_TYPE = /^application\/json\s*(;|$)/i;

function parseJson(body: Buffer): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new BadReview('request body is empty');
  const tooBig = jsonShapeProblem(body);
  if (tooBig) throw new BadReview(tooBig);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BadReview(`request body is not JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Compiles the schemas before the first review arrives, so it is not the slow one. */
function warmUp(): void {
  for (const kind of KINDS) validateResource(kind, {}, { operatorConfig: {} });
}
