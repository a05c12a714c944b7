// Fetches a session job's jar (notes §8.2: the operator downloads `jarURI`, then uploads it to the session cluster).
// https, and http or file:// when the operator configuration allows those schemes. Every download is bounded — a
// size cap, a connect and a total deadline, at most 5 redirects — and the restricted-host rule is enforced again
// against the address actually connected to (DNS can change between admission and fetch). A corporate proxy is
// honoured through HTTPS_PROXY / HTTP_PROXY / NO_PROXY. Downloads are kept by URI and reused while the server says
// the ETag or Last-Modified is unchanged. Object-store URIs (s3, oss, gs, wasb, abfs …) go to their store's SDK
// (object-stores/), under the same cap and deadline, and are kept by URI and the object's ETag or generation.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { join } from 'node:path';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { isRestrictedAddress } from '../../api/validation/jar-uri.js';
import { deadline } from '../deadline.js';
import { proxyFor, type ProxyEnvironment } from './proxy.js';
import { isObjectStoreScheme, parseObjectUri } from '../../api/object-store-uri.js';
import type { FlatConfig } from '../../api/flink-config.js';
import { ObjectStoreError, ObjectStores, storeConfig } from './object-stores/index.js';
import type { StoreSettingsSnapshot } from './store-settings.js';

export class JarFetchError extends Error {
  constructor(
    readonly uri: string,
    readonly reason: string,
  ) {
    super(`cannot fetch ${uri}: ${reason}`);
  }
}

export interface JarFetcherOptions {
  /** Where downloads are kept (`kubernetes.operator.user.artifacts.base.dir`). */
  cacheDir: string;
  maxBytes: number;
  allowedSchemes: readonly string[];
  disallowRestrictedHosts: boolean;
  totalTimeoutMs: number;
  connectTimeoutMs?: number;
  /** The proxy settings, normally the process environment. */
  environment?: ProxyEnvironment;
  /** Name resolution (injectable for tests). */
  lookup?: typeof dnsLookup;
  /** The object stores' settings: the operator configuration and the credentials Secret over it. */
  storeSettings?: () => Promise<StoreSettingsSnapshot>;
}

export interface FetchedJar {
  path: string;
  bytes: number;
  /** What its server named this version: an object's ETag or generation, an https ETag or Last-Modified. */
  version?: string;
  /** False when the kept copy was still current (304) or the jar is a local file. */
  downloaded: boolean;
}

interface Kept {
  uri: string;
  etag?: string;
  lastModified?: string;
  bytes: number;
}

const MAX_REDIRECTS = 5;

export class JarFetcher {
  /** Completed downloads since start, for the benchmark and the logs. */
  downloads = 0;
  private readonly direct: Agent;
  private readonly proxies = new Map<string, ProxyAgent>();
  private readonly inFlight = new Map<string, Promise<FetchedJar>>();
  readonly stores = new ObjectStores();

  constructor(private readonly options: JarFetcherOptions) {
    this.direct = new Agent({ connect: { timeout: options.connectTimeoutMs ?? 10_000, lookup: this.checkedLookup() } });
  }

  /** The jar at `uri` as a local file; one download at a time per URI however many jobs ask. */
  fetch(uri: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<FetchedJar> {
    const key = `${uri}\n${JSON.stringify(headers)}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetchOnce(uri, headers, signal).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  async close(): Promise<void> {
    await Promise.all([this.direct.close(), ...[...this.proxies.values()].map((p) => p.close())]);
  }

  private async fetchOnce(uri: string, headers: Record<string, string>, signal?: AbortSignal): Promise<FetchedJar> {
    const url = this.checkedUrl(uri, uri);
    if (url.protocol === 'file:') return this.localFile(uri, decodeURIComponent(url.pathname));
    await mkdir(this.options.cacheDir, { recursive: true });
    const base = join(this.options.cacheDir, createHash('sha256').update(uri).digest('hex').slice(0, 32));
    const kept = await readKept(`${base}.json`, uri);
    const limit = deadline(this.options.totalTimeoutMs, signal);
    let secrets: readonly string[] = [];
    try {
      if (isObjectStoreScheme(url.protocol.slice(0, -1))) {
        const settings = await (this.options.storeSettings?.() ?? Promise.resolve({ config: {}, secrets: [] }));
        secrets = settings.secrets;
        return await this.fetchObject(uri, base, kept, settings.config, limit.signal);
      }
      return await this.fetchHttp(uri, url, headers, base, kept, limit.signal);
    } catch (err) {
      await rm(`${base}.part`, { force: true });
      if (signal?.aborted) throw err;
      throw redacted(this.failure(err, uri, limit.signal), secrets);
    } finally {
      limit.release();
    }
  }

  private async fetchHttp(
    uri: string,
    url: URL,
    headers: Record<string, string>,
    base: string,
    kept: Kept | undefined,
    abort: AbortSignal,
  ): Promise<FetchedJar> {
    const conditional: Record<string, string> = {};
    if (kept?.etag) conditional['if-none-match'] = kept.etag;
    if (kept?.lastModified) conditional['if-modified-since'] = kept.lastModified;
    let current = url;
    for (let hop = 0; ; hop++) {
      // undici's request never follows redirects itself: each hop is checked here.
      const response = await request(current, {
        method: 'GET',
        headers: { ...headers, ...conditional, 'user-agent': 'flink-operator-ts' },
        dispatcher: await this.dispatcherFor(current, uri),
        signal: abort,
      });
      const status = response.statusCode;
      // A body given up on (too large, not wanted) is destroyed; its abort is not an error of this fetch.
      response.body.on('error', () => undefined);
      if (status >= 300 && status < 400 && status !== 304) {
        await response.body.dump();
        const location = response.headers.location;
        if (typeof location !== 'string') throw new JarFetchError(uri, `HTTP ${status} without a Location`);
        if (hop + 1 > MAX_REDIRECTS) throw new JarFetchError(uri, `more than ${MAX_REDIRECTS} redirects`);
        current = this.checkedUrl(new URL(location, current).toString(), uri);
        continue;
      }
      if (status === 304 && kept) {
        await response.body.dump();
        return { path: `${base}.jar`, bytes: kept.bytes, downloaded: false, ...versionOf(kept) };
      }
      if (status !== 200) {
        await response.body.dump();
        throw new JarFetchError(uri, `HTTP ${status}${status === 407 ? ' from the proxy' : ''}`);
      }
      const length = Number(response.headers['content-length']);
      if (Number.isFinite(length) && length > this.options.maxBytes) {
        await response.body.destroy();
        throw this.overLimit(uri, length);
      }
      const etag = headerText(response.headers.etag);
      const lastModified = headerText(response.headers['last-modified']);
      return this.keep(response.body, base, {
        uri,
        ...(etag ? { etag } : {}),
        ...(lastModified ? { lastModified } : {}),
      });
    }
  }

  /** From an object store: its version first (a kept copy of that version is reused, an object over the cap refused). */
  private async fetchObject(
    uri: string,
    base: string,
    kept: Kept | undefined,
    config: FlatConfig,
    abort: AbortSignal,
  ): Promise<FetchedJar> {
    const location = parseObjectUri(uri);
    if ('error' in location) throw new JarFetchError(uri, `the URI ${location.error}`);
    const store = await this.stores.store(location.store, storeConfig(config, location.store));
    const object = await store.stat(location, abort);
    if (object.bytes > this.options.maxBytes) throw this.overLimit(uri, object.bytes);
    if (kept?.etag && kept.etag === object.version)
      return { path: `${base}.jar`, bytes: kept.bytes, downloaded: false, version: kept.etag };
    return this.keep(await store.read(location, object.version, abort), base, {
      uri,
      ...(object.version ? { etag: object.version } : {}),
    });
  }

  /** Saves a body under the cap, checks it is a jar, and keeps it with what identifies its version. */
  private async keep(body: AsyncIterable<Uint8Array>, base: string, version: Omit<Kept, 'bytes'>): Promise<FetchedJar> {
    const bytes = await this.save(body, `${base}.part`, version.uri);
    await checkZip(`${base}.part`, version.uri);
    await rename(`${base}.part`, `${base}.jar`);
    await writeFile(`${base}.json`, JSON.stringify({ ...version, bytes } satisfies Kept));
    this.downloads++;
    return { path: `${base}.jar`, bytes, downloaded: true, ...versionOf(version) };
  }

  private overLimit(uri: string, bytes: number): JarFetchError {
    return new JarFetchError(
      uri,
      `${bytes} bytes is over the ${this.options.maxBytes}-byte limit (kubernetes.operator.user.artifacts.max-size)`,
    );
  }

  /** Any failure of a fetch as one JarFetchError naming the URI. */
  private failure(err: unknown, uri: string, abort: AbortSignal): JarFetchError {
    if (err instanceof JarFetchError) return err;
    if (abort.aborted) return new JarFetchError(uri, `no complete answer within ${this.options.totalTimeoutMs} ms`);
    if (err instanceof ObjectStoreError) return new JarFetchError(uri, err.message);
    const cause = (err as { cause?: Error }).cause ?? (err as Error);
    const refused = /Proxy response \((\d+)\)/.exec(cause.message);
    return new JarFetchError(uri, refused ? `the proxy refused to connect to it (HTTP ${refused[1]})` : cause.message);
  }

  /** A URL this fetch may go to: an allowed scheme, and (for http) no restricted address literal. */
  private checkedUrl(text: string, uri: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new JarFetchError(uri, `${JSON.stringify(text.slice(0, 200))} is not a URL`);
    }
    const scheme = url.protocol.slice(0, -1).toLowerCase();
    if (!this.options.allowedSchemes.includes(scheme)) {
      throw new JarFetchError(
        uri,
        `scheme "${scheme}" is not allowed (kubernetes.operator.user.artifacts.allowed-schemes: ${this.options.allowedSchemes.join(', ')})`,
      );
    }
    if (scheme !== 'file' && scheme !== 'http' && scheme !== 'https' && !isObjectStoreScheme(scheme))
      throw new JarFetchError(uri, `no fetcher for scheme "${scheme}"`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (
      (scheme === 'http' || scheme === 'https') &&
      this.options.disallowRestrictedHosts &&
      isIP(host) &&
      isRestrictedAddress(host)
    ) {
      throw new JarFetchError(uri, `host ${host} is a restricted address`);
    }
    return url;
  }

  /**
   * Direct connections resolve through the checked lookup. Through a proxy the proxy connects, so the target name
   * is checked here when it resolves here (a name only the proxy can resolve is the proxy's to allow).
   */
  private async dispatcherFor(url: URL, uri: string): Promise<Dispatcher> {
    const proxy = proxyFor(url, this.options.environment ?? process.env);
    if (!proxy) return this.direct;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (this.options.disallowRestrictedHosts && !isIP(host)) {
      const addresses = await new Promise<LookupAddress[]>((resolve) =>
        (this.options.lookup ?? dnsLookup)(host, { all: true }, (err, found) => resolve(err ? [] : found)),
      );
      const refusal = restrictedRefusal(host, addresses);
      if (refusal) throw new JarFetchError(uri, refusal);
    }
    let agent = this.proxies.get(proxy);
    if (!agent) {
      agent = new ProxyAgent({
        uri: proxy,
        connect: { timeout: this.options.connectTimeoutMs ?? 10_000 },
      } as ProxyAgent.Options);
      this.proxies.set(proxy, agent);
    }
    return agent;
  }

  /** A lookup that refuses restricted addresses: the check is made on the address the socket then connects to. */
  private checkedLookup(): LookupFunction {
    const resolve = this.options.lookup ?? dnsLookup;
    return (hostname, options, callback) => {
      resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 4);
        const refusal = this.options.disallowRestrictedHosts ? restrictedRefusal(hostname, addresses) : undefined;
        if (refusal) return callback(new Error(refusal), '', 4);
        if (addresses.length === 0) return callback(new Error(`host ${hostname} has no address`), '', 4);
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    };
  }

  private async save(body: AsyncIterable<Uint8Array>, path: string, uri: string): Promise<number> {
    const out = createWriteStream(path);
    let bytes = 0;
    try {
      for await (const chunk of body) {
        bytes += chunk.length;
        if (bytes > this.options.maxBytes) {
          throw new JarFetchError(
            uri,
            `more than the ${this.options.maxBytes}-byte limit (kubernetes.operator.user.artifacts.max-size)`,
          );
        }
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    } finally {
      await new Promise<void>((resolve) => out.end(resolve));
    }
    return bytes;
  }

  private async localFile(uri: string, path: string): Promise<FetchedJar> {
    let bytes: number;
    try {
      bytes = (await stat(path)).size;
    } catch (err) {
      throw new JarFetchError(
        uri,
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file in the operator pod' : (err as Error).message,
      );
    }
    if (bytes > this.options.maxBytes)
      throw new JarFetchError(uri, `${bytes} bytes is over the ${this.options.maxBytes}-byte limit`);
    await checkZip(path, uri);
    return { path, bytes, downloaded: false };
  }
}

function versionOf(kept: Omit<Kept, 'bytes'>): { version?: string } {
  const version = kept.etag ?? kept.lastModified;
  return version ? { version } : {};
}

/** A secret value never leaves in an error, however an SDK chose to word it. */
function redacted(err: JarFetchError, secrets: readonly string[]): JarFetchError {
  const hidden = secrets
    .filter((s) => s.length >= 4)
    .reduce((text, secret) => text.split(secret).join('***'), err.reason);
  return hidden === err.reason ? err : new JarFetchError(err.uri, hidden);
}

/** Any restricted address among a host's addresses refuses the host (as admission does), naming them. */
function restrictedRefusal(host: string, addresses: readonly LookupAddress[]): string | undefined {
  const restricted = addresses.map((a) => a.address).filter(isRestrictedAddress);
  return restricted.length > 0 ? `host ${host} resolves to a restricted address (${restricted.join(', ')})` : undefined;
}

/** A jar is a zip: it starts with `PK`. Anything else (an HTML error page, a redirect body) is named as such. */
async function checkZip(path: string, uri: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead < 4 || head[0] !== 0x50 || head[1] !== 0x4b) {
      throw new JarFetchError(
        uri,
        `it is not a jar (no zip header; it starts with ${JSON.stringify(head.subarray(0, bytesRead).toString('latin1'))})`,
      );
    }
  } finally {
    await handle.close();
  }
}

async function readKept(path: string, uri: string): Promise<Kept | undefined> {
  try {
    const kept = JSON.parse(await readFile(path, 'utf8')) as Kept;
    await stat(path.replace(/\.json$/, '.jar'));
    return kept.uri === uri && (kept.etag || kept.lastModified) ? kept : undefined;
  } catch {
    return undefined;
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
