// s3://, s3a://, s3p:// (Amazon S3 and S3-compatible endpoints) and oss:// (Aliyun OSS through its S3-compatible API)
// on AWS SDK v3. Keys as Flink's file systems read them: `s3.endpoint`, `s3.path.style.access`, `s3.access-key`,
// `s3.secret-key` (and `s3.region`); `fs.oss.endpoint`, `fs.oss.accessKeyId`, `fs.oss.accessKeySecret`. Without keys,
// the SDK's default chain: IRSA and EKS Pod Identity, the environment, the instance's role.
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { isIP } from 'node:net';
import type { ObjectLocation } from '../../../api/object-store-uri.js';
import type { FlatConfig } from '../../../api/flink-config.js';
import { describeFailure, ObjectStoreError, type ObjectStore } from './index.js';

interface S3Settings {
  endpoint?: string;
  region: string;
  pathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  keysNamed: string;
}

export function s3Settings(kind: 's3' | 'oss', config: FlatConfig): S3Settings {
  const pick = (...keys: string[]) => keys.map((k) => config[k]).find((v) => v !== undefined && v !== '');
  const [endpointKey, accessKey, secretKey] =
    kind === 's3'
      ? ['s3.endpoint', 's3.access-key', 's3.secret-key']
      : ['fs.oss.endpoint', 'fs.oss.accessKeyId', 'fs.oss.accessKeySecret'];
  const rawEndpoint = pick(endpointKey!);
  if (kind === 'oss' && !rawEndpoint)
    throw new ObjectStoreError(
      'oss:// needs fs.oss.endpoint in the operator configuration (e.g. oss-cn-hangzhou.aliyuncs.com)',
    );
  const endpoint = rawEndpoint && !/^https?:\/\//i.test(rawEndpoint) ? `https://${rawEndpoint}` : rawEndpoint;
  const host = endpoint ? new URL(endpoint).hostname.replace(/^\[|\]$/g, '') : undefined;
  // OSS names its region in its endpoint (oss-cn-hangzhou.aliyuncs.com); an address has no buckets as subdomains.
  const region =
    pick('s3.region') ??
    (kind === 'oss' && host && !isIP(host) ? host.split('.')[0]! : (process.env.AWS_REGION ?? 'us-east-1'));
  const id = pick(accessKey!, ...(kind === 's3' ? ['s3.access.key'] : []));
  const secret = pick(secretKey!, ...(kind === 's3' ? ['s3.secret.key'] : []));
  return {
    ...(endpoint ? { endpoint } : {}),
    region,
    pathStyle:
      config['s3.path.style.access'] === 'true' || (host !== undefined && (isIP(host) !== 0 || host === 'localhost')),
    ...(id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret } } : {}),
    keysNamed: `${accessKey} / ${secretKey}${kind === 's3' ? ", or the pod's AWS identity (IRSA, Pod Identity)" : ''}`,
  };
}

export const s3Store =
  (kind: 's3' | 'oss') =>
  (config: FlatConfig): ObjectStore => {
    const settings = s3Settings(kind, config);
    const client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.pathStyle,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // The reconciler retries with its own backoff; one retry here for a dropped connection is enough.
      maxAttempts: 2,
    });
    const where = (l: ObjectLocation) =>
      `${l.scheme}://${l.bucket}/${l.key}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`;
    const fail = (err: unknown, l: ObjectLocation): never => {
      throw new ObjectStoreError(describeFailure(err, where(l), settings.keysNamed));
    };
    return {
      async stat(l, signal) {
        const head = await client
          .send(new HeadObjectCommand({ Bucket: l.bucket, Key: l.key }), { abortSignal: signal })
          .catch((err: unknown) => fail(err, l));
        return { version: head.ETag ?? '', bytes: head.ContentLength ?? 0 };
      },
      async read(l, version, signal) {
        const got = await client
          .send(new GetObjectCommand({ Bucket: l.bucket, Key: l.key, ...(version ? { IfMatch: version } : {}) }), {
            abortSignal: signal,
          })
          .catch((err: unknown) => fail(err, l));
        return got.Body as AsyncIterable<Uint8Array>;
      },
    };
  };
