// Where an object-store jar URI points: the store, its bucket (or container and account) and the object's key — the
// forms Flink's file systems accept (s3/s3a/s3p, oss, gs, wasb(s), abfs(s)). Admission refuses a malformed one with
// its field path; the operator's fetcher reads the same parse, so the two never disagree.
import { parseJavaUri } from './java-uri.js';
import { shown } from './validation/field-error.js';

export type ObjectStoreKind = 's3' | 'oss' | 'gcs' | 'azure';

/** Each object-store scheme and the store that serves it. */
export const OBJECT_STORE_SCHEMES: Readonly<Record<string, ObjectStoreKind>> = {
  s3: 's3',
  s3a: 's3',
  s3p: 's3',
  oss: 'oss',
  gs: 'gcs',
  wasb: 'azure',
  wasbs: 'azure',
  abfs: 'azure',
  abfss: 'azure',
};

const STORE_NAMES: Record<ObjectStoreKind, string> = { s3: 'S3', oss: 'OSS', gcs: 'Cloud Storage', azure: 'Azure' };

export interface ObjectLocation {
  store: ObjectStoreKind;
  scheme: string;
  /** The bucket, or the Azure container. */
  bucket: string;
  key: string;
  /** Azure only: the storage account, and the endpoint host the URI names (`<account>.blob.core.windows.net`). */
  account?: string;
  host?: string;
  /** Azure only: `wasbs` and `abfss` say TLS; `wasb` and `abfs` do not require it. */
  secure?: boolean;
}

export const isObjectStoreScheme = (scheme: string): boolean =>
  Object.hasOwn(OBJECT_STORE_SCHEMES, scheme.toLowerCase());

/** S3 and OSS bucket names (3–63 lower-case letters, digits, dots, hyphens; alphanumeric at both ends). */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Cloud Storage bucket names: also underscores; up to 222 characters when dotted, 63 per part. */
const GCS_BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const AZURE_CONTAINER = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const AZURE_ACCOUNT = /^[a-z0-9]{3,24}$/;

/** The location an object-store URI names, or why it names none (a sentence to follow the URI in an error). */
export function parseObjectUri(text: string): ObjectLocation | { error: string } {
  const uri = parseJavaUri(text);
  if (!uri.ok) return { error: `is not a valid URI: ${uri.reason}` };
  const scheme = uri.scheme?.toLowerCase() ?? '';
  const store = OBJECT_STORE_SCHEMES[scheme];
  const parts = /^[a-z0-9+.-]+:\/\/([^/?#]*)([^?#]*)/i.exec(text);
  if (!store || !parts)
    return { error: `is not an object-store URI (${Object.keys(OBJECT_STORE_SCHEMES).join(', ')}://…)` };
  const [, authority = '', path = ''] = parts;
  let key: string;
  try {
    key = decodeURIComponent(path.replace(/^\/+/, ''));
  } catch {
    return { error: 'has a malformed %-escape in its path' };
  }
  if (store === 'azure') return parseAzure(scheme, authority, key);
  const bucket = authority;
  const valid =
    store === 'gcs'
      ? GCS_BUCKET.test(bucket) && bucket.split('.').every((part) => part.length <= 63)
      : S3_BUCKET.test(bucket) && !bucket.includes('..');
  if (!bucket) return { error: `names no bucket: ${scheme}://<bucket>/<path to the jar>` };
  if (!valid) return { error: `names bucket ${shown(bucket)}, which is not a valid ${STORE_NAMES[store]} bucket name` };
  if (!key || key.endsWith('/'))
    return { error: `names no object in bucket ${shown(bucket)}: ${scheme}://${bucket}/<path to the jar>` };
  return { store, scheme, bucket, key };
}

function parseAzure(scheme: string, authority: string, key: string): ObjectLocation | { error: string } {
  const at = authority.indexOf('@');
  const form = `${scheme}://<container>@<account>.${scheme.startsWith('abfs') ? 'dfs' : 'blob'}.core.windows.net/<path to the jar>`;
  if (at < 0) return { error: `names no container: ${form}` };
  const container = authority.slice(0, at);
  const host = authority.slice(at + 1).toLowerCase();
  const account = host.split('.')[0] ?? '';
  if (!AZURE_CONTAINER.test(container))
    return { error: `names container ${shown(container)}, which is not a valid Azure container name` };
  if (!AZURE_ACCOUNT.test(account) || !host.includes('.'))
    return {
      error: `names ${shown(host)}, which is not <account>.<endpoint> with a valid storage account name: ${form}`,
    };
  if (!key || key.endsWith('/')) return { error: `names no object in container ${shown(container)}: ${form}` };
  return {
    store: 'azure',
    scheme,
    bucket: container,
    key,
    account,
    host,
    secure: scheme === 'wasbs' || scheme === 'abfss',
  };
}
