// How each object store reads Flink's and Hadoop's keys: endpoints, path style, regions, which credentials.
import { expect } from 'chai';
import { parseObjectUri, type ObjectLocation } from '../../api/object-store-uri.js';
import { describeFailure, storeConfig } from '../../operator/artifacts/object-stores/index.js';
import { s3Settings } from '../../operator/artifacts/object-stores/s3.js';
import { blobAccountUrl } from '../../operator/artifacts/object-stores/azure-blob.js';

const at = (uri: string) => parseObjectUri(uri) as ObjectLocation;

describe('object-store settings', () => {
  it('each store sees only its own keys', () => {
    const config = {
      's3.endpoint': 'e',
      'fs.oss.endpoint': 'o',
      'fs.azure.account.key.a.blob.core.windows.net': 'k',
      'fs.gs.storage.root.url': 'g',
      'kubernetes.operator.x': 'y',
    };
    expect(storeConfig(config, 's3')).to.deep.equal({ 's3.endpoint': 'e' });
    expect(storeConfig(config, 'oss')).to.deep.equal({ 'fs.oss.endpoint': 'o' });
    expect(storeConfig(config, 'azure')).to.deep.equal({ 'fs.azure.account.key.a.blob.core.windows.net': 'k' });
    expect(storeConfig(config, 'gcs')).to.deep.equal({ 'fs.gs.storage.root.url': 'g' });
  });

  const s3: [string, 's3' | 'oss', Record<string, string>, object][] = [
    ['AWS itself: no endpoint, the default credential chain', 's3', {}, { region: 'us-east-1', pathStyle: false }],
    [
      'an S3-compatible endpoint with keys and path style',
      's3',
      {
        's3.endpoint': 'minio.example.com:9000',
        's3.path.style.access': 'true',
        's3.access-key': 'AK',
        's3.secret-key': 'SK',
      },
      {
        endpoint: 'https://minio.example.com:9000',
        pathStyle: true,
        credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      },
    ],
    [
      'an address endpoint: path style (buckets cannot be subdomains of an address)',
      's3',
      { 's3.endpoint': 'http://10.1.2.3:9000' },
      { endpoint: 'http://10.1.2.3:9000', pathStyle: true },
    ],
    [
      "Flink's older key names",
      's3',
      { 's3.access.key': 'AK', 's3.secret.key': 'SK' },
      { credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } },
    ],
    [
      'OSS: its region from its endpoint, virtual-hosted buckets',
      'oss',
      { 'fs.oss.endpoint': 'oss-cn-hangzhou.aliyuncs.com', 'fs.oss.accessKeyId': 'AK', 'fs.oss.accessKeySecret': 'SK' },
      {
        endpoint: 'https://oss-cn-hangzhou.aliyuncs.com',
        region: 'oss-cn-hangzhou',
        pathStyle: false,
        credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      },
    ],
  ];
  for (const [name, kind, config, expected] of s3)
    it(`S3: ${name}`, () => expect(s3Settings(kind, config)).to.deep.include(expected));

  it('S3: only one of the two keys is no key (the default chain)', () =>
    expect(s3Settings('s3', { 's3.access-key': 'AK' })).to.not.have.property('credentials'));
  it('OSS without an endpoint says which key to set', () =>
    expect(() => s3Settings('oss', {})).to.throw(/oss:\/\/ needs fs\.oss\.endpoint/));

  it('Azure: the Blob endpoint beside a Data Lake URI, or the override with the account in its path', () => {
    expect(blobAccountUrl(at('abfss://jars@acct1.dfs.core.windows.net/a.jar'), {})).to.equal(
      'https://acct1.blob.core.windows.net',
    );
    expect(blobAccountUrl(at('wasb://jars@acct1.blob.core.chinacloudapi.cn/a.jar'), {})).to.equal(
      'https://acct1.blob.core.chinacloudapi.cn',
    );
    expect(
      blobAccountUrl(at('abfs://jars@acct1.dfs.core.windows.net/a.jar'), {
        'fs.azure.abfs.endpoint': 'http://127.0.0.1:10000/',
      }),
    ).to.equal('http://127.0.0.1:10000/acct1');
    expect(() =>
      blobAccountUrl(at('wasbs://jars@acct1.blob.core.windows.net/a.jar'), {
        'fs.azure.abfs.endpoint': 'http://127.0.0.1:10000',
      }),
    ).to.throw(/wasbs:\/\/ needs TLS, but fs\.azure\.abfs\.endpoint is http:\/\/127\.0\.0\.1:10000: use wasb:\/\//);
  });

  it('a failure in words: not found, access denied naming the keys to check, anything else with its code', () => {
    expect(describeFailure({ name: 'NotFound', $metadata: { httpStatusCode: 404 } }, 's3://b/k', 'keys')).to.equal(
      'no such object: s3://b/k (404 NotFound)',
    );
    expect(
      describeFailure(
        { name: 'RestError', statusCode: 403, details: { errorCode: 'AuthorizationFailure' } },
        'wasb://c@a.blob.core.windows.net/k',
        'fs.azure.account.key…',
      ),
    ).to.equal(
      'access denied to wasb://c@a.blob.core.windows.net/k (403 AuthorizationFailure): check fs.azure.account.key…',
    );
    expect(
      describeFailure(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
        'gs://b/k',
        'keys',
      ),
    ).to.equal('gs://b/k: connect ECONNREFUSED 127.0.0.1:1');
  });
});
