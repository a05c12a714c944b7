// gs:// (Google Cloud Storage) on its Node.js client. A service-account key (`fs.gs.auth.service.account.json`: the
// key's JSON, from the credentials Secret; or `fs.gs.auth.service.account.json.keyfile`: a file in the operator's
// pod), else Application Default Credentials (GKE Workload Identity, the environment). `fs.gs.storage.root.url`
// points at another endpoint (an emulator; the Hadoop connector's key), which is then used without authentication.
import { Storage } from '@google-cloud/storage';
import type { ObjectLocation } from '../../../api/object-store-uri.js';
import type { FlatConfig } from '../../../api/flink-config.js';
import { describeFailure, ObjectStoreError, type ObjectStore } from './index.js';

export function gcsStore(config: FlatConfig): ObjectStore {
  const keyJson = config['fs.gs.auth.service.account.json'];
  let credentials: object | undefined;
  try {
    credentials = keyJson ? (JSON.parse(keyJson) as object) : undefined;
  } catch {
    throw new ObjectStoreError('fs.gs.auth.service.account.json is not a service-account key (not JSON)');
  }
  const endpoint = config['fs.gs.storage.root.url'];
  const storage = new Storage({
    ...(endpoint ? { apiEndpoint: endpoint.replace(/\/+$/, '') } : {}),
    ...(credentials
      ? { credentials }
      : config['fs.gs.auth.service.account.json.keyfile']
        ? { keyFilename: config['fs.gs.auth.service.account.json.keyfile'] }
        : {}),
    ...(config['fs.gs.project.id'] ? { projectId: config['fs.gs.project.id'] } : {}),
    retryOptions: { maxRetries: 1 },
  });
  const where = (l: ObjectLocation) => `gs://${l.bucket}/${l.key}${endpoint ? ` at ${endpoint}` : ''}`;
  const credentialKeys =
    "fs.gs.auth.service.account.json (or .keyfile), or the pod's Google identity (Workload Identity)";
  const fail = (err: unknown, l: ObjectLocation): never => {
    throw new ObjectStoreError(describeFailure(err, where(l), credentialKeys));
  };
  return {
    async stat(l, signal) {
      // The client takes no abort signal for metadata: the deadline wins the race, the answer is dropped.
      const [metadata] = await Promise.race([
        storage.bucket(l.bucket).file(l.key).getMetadata(),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
        ),
      ]).catch((err: unknown) => (signal.aborted ? Promise.reject(err as Error) : fail(err, l)));
      return { version: String(metadata.generation ?? metadata.etag ?? ''), bytes: Number(metadata.size ?? 0) };
    },
    async read(l, version, signal) {
      const stream = storage
        .bucket(l.bucket)
        .file(l.key, version ? { generation: Number(version) } : {})
        .createReadStream();
      signal.addEventListener('abort', () => stream.destroy(signal.reason as Error), { once: true });
      // The first error (a 404, a 403) arrives on the stream; it is told the same way as stat's.
      return (async function* () {
        try {
          for await (const chunk of stream) yield chunk as Uint8Array;
        } catch (err) {
          if (signal.aborted) throw err;
          fail(err, l);
        }
      })();
    },
  };
}
