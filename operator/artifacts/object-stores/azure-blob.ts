// wasb(s):// and abfs(s):// (Azure Blob Storage and Data Lake Storage Gen2, whose files the Blob API reads as blobs)
// on the Azure Storage Blob client. An account key as Hadoop names it (`fs.azure.account.key.<account>.blob|dfs.…`),
// else Azure's default credential chain (Workload Identity, managed identity, the environment); `fs.azure.abfs.endpoint`
// points every account at one endpoint (an emulator, a private endpoint), the account then in the path.
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/core-auth';
import type { ObjectLocation } from '../../../api/object-store-uri.js';
import type { FlatConfig } from '../../../api/flink-config.js';
import { describeFailure, ObjectStoreError, type ObjectStore } from './index.js';

/** The Blob endpoint of a location: the override's, else the Blob host beside the one the URI names (dfs → blob). */
export function blobAccountUrl(location: ObjectLocation, config: FlatConfig): string {
  const override = config['fs.azure.abfs.endpoint'];
  if (override) {
    const base = /^https?:\/\//i.test(override) ? override : `https://${override}`;
    if (location.secure && base.toLowerCase().startsWith('http://')) {
      throw new ObjectStoreError(
        `${location.scheme}:// needs TLS, but fs.azure.abfs.endpoint is ${base}: use ${location.scheme.slice(0, -1)}:// or an https endpoint`,
      );
    }
    return `${base.replace(/\/+$/, '')}/${location.account}`;
  }
  return `https://${location.host!.replace(/^([^.]+)\.dfs\./, '$1.blob.')}`;
}

/** The account key configured for a location's account, under any of its endpoint names. */
function accountKey(location: ObjectLocation, config: FlatConfig): string | undefined {
  const exact = config[`fs.azure.account.key.${location.host}`];
  if (exact) return exact;
  const prefix = `fs.azure.account.key.${location.account}.`;
  return Object.entries(config).find(([key, value]) => key.startsWith(prefix) && value)?.[1];
}

export function azureBlobStore(config: FlatConfig): ObjectStore {
  let defaultCredential: Promise<TokenCredential> | undefined;
  const blob = async (l: ObjectLocation) => {
    const key = accountKey(l, config);
    const credential = key
      ? new StorageSharedKeyCredential(l.account!, key)
      : await (defaultCredential ??= import('@azure/identity').then(
          ({ DefaultAzureCredential }) => new DefaultAzureCredential(),
        ));
    const service = new BlobServiceClient(blobAccountUrl(l, config), credential, { retryOptions: { maxTries: 2 } });
    return service.getContainerClient(l.bucket).getBlobClient(l.key);
  };
  const where = (l: ObjectLocation) => `${l.scheme}://${l.bucket}@${l.host}/${l.key}`;
  const credentials = `fs.azure.account.key.<account>.blob.core.windows.net (or .dfs.), or the pod's Azure identity (Workload Identity)`;
  const fail = (err: unknown, l: ObjectLocation): never => {
    if (err instanceof ObjectStoreError) throw err;
    throw new ObjectStoreError(describeFailure(err, where(l), credentials));
  };
  return {
    async stat(l, signal) {
      const properties = await (
        await blob(l)
      )
        .getProperties({ abortSignal: signal })
        .catch((err: unknown) => fail(err, l));
      return { version: properties.etag ?? '', bytes: properties.contentLength ?? 0 };
    },
    async read(l, version, signal) {
      const download = await (
        await blob(l)
      )
        .download(0, undefined, { abortSignal: signal, ...(version ? { conditions: { ifMatch: version } } : {}) })
        .catch((err: unknown) => fail(err, l));
      if (!download.readableStreamBody) throw new ObjectStoreError(`${where(l)}: the store answered without a body`);
      return download.readableStreamBody as AsyncIterable<Uint8Array>;
    },
  };
}
