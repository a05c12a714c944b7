// The object stores a session job's jar may live in, one module each on its cloud's own SDK, loaded the first time a
// URI of that store appears: an operator whose users never name one neither starts slower nor holds more memory.
import type { ObjectLocation, ObjectStoreKind } from '../../../api/object-store-uri.js';
import type { FlatConfig } from '../../../api/flink-config.js';

/** What a store says of an object before it is read: its version tag (ETag, or generation) and its size. */
export interface StoredObject {
  version: string;
  bytes: number;
}

export interface ObjectStore {
  stat(location: ObjectLocation, signal: AbortSignal): Promise<StoredObject>;
  /** The object's bytes, of exactly the version `stat` saw (a change in between is an error, not a mixed read). */
  read(location: ObjectLocation, version: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

/** Why a store refused, in words a user acts on (never the credentials themselves). */
export class ObjectStoreError extends Error {}

type StoreFactory = (config: FlatConfig) => ObjectStore;

const FACTORIES: Record<ObjectStoreKind, () => Promise<StoreFactory>> = {
  s3: async () => (await import('./s3.js')).s3Store('s3'),
  oss: async () => (await import('./s3.js')).s3Store('oss'),
  gcs: async () => (await import('./gcs.js')).gcsStore,
  azure: async () => (await import('./azure-blob.js')).azureBlobStore,
};

/** One client per store and settings: a changed Secret or configuration makes a new one, an unchanged one is reused. */
export class ObjectStores {
  private readonly clients = new Map<string, ObjectStore>();

  async store(kind: ObjectStoreKind, config: FlatConfig): Promise<ObjectStore> {
    const key = `${kind}\n${JSON.stringify(Object.entries(config).sort())}`;
    let store = this.clients.get(key);
    if (!store) {
      store = (await FACTORIES[kind]())(config);
      for (const old of [...this.clients.keys()].filter((k) => k.startsWith(`${kind}\n`))) this.clients.delete(old);
      this.clients.set(key, store);
    }
    return store;
  }

  /** The stores whose SDK this process has loaded (for the logs and the benchmark). */
  loaded(): ObjectStoreKind[] {
    return [...new Set([...this.clients.keys()].map((k) => k.split('\n')[0] as ObjectStoreKind))];
  }
}

/** The part of the configuration an object store reads: Flink's and Hadoop's keys of that store. */
export function storeConfig(config: FlatConfig, kind: ObjectStoreKind): FlatConfig {
  const prefixes = { s3: ['s3.'], oss: ['fs.oss.'], gcs: ['fs.gs.', 'gs.'], azure: ['fs.azure.'] }[kind];
  return Object.fromEntries(Object.entries(config).filter(([key]) => prefixes.some((p) => key.startsWith(p))));
}

/** An HTTP status and the store's error code, read from whichever shape its SDK throws. */
export function storeFailure(err: unknown): { status?: number; code?: string; message: string } {
  const e = err as {
    name?: string;
    code?: string | number;
    statusCode?: number;
    $metadata?: { httpStatusCode?: number };
    details?: { errorCode?: string };
    message?: string;
  };
  const status = e.$metadata?.httpStatusCode ?? e.statusCode ?? (typeof e.code === 'number' ? e.code : undefined);
  // Azure names its error in a header (details.errorCode), S3 in the error's name, Cloud Storage in its reason.
  const generic = e.name === 'Error' || e.name === 'RestError' || e.name === 'ApiError';
  const code = e.details?.errorCode ?? (typeof e.code === 'string' ? e.code : generic ? undefined : e.name);
  return {
    ...(status !== undefined ? { status } : {}),
    ...(code ? { code } : {}),
    message: (e.message ?? String(err)).split('\n')[0]!.slice(0, 300),
  };
}

/** The reason shared by every store for the common failures; the store names its own credential keys. */
export function describeFailure(err: unknown, where: string, credentials: string): string {
  const f = storeFailure(err);
  const detail = [f.status, f.code].filter(Boolean).join(' ');
  if (f.status === 404) return `no such object: ${where} (${detail || 'not found'})`;
  if (f.status === 401 || f.status === 403) return `access denied to ${where} (${detail}): check ${credentials}`;
  if (f.status !== undefined) return `${where}: ${detail}${f.message && f.message !== f.code ? `: ${f.message}` : ''}`;
  return `${where}: ${f.message}`;
}
