// Object-store jar URIs as Flink's file systems name them, parsed once for admission and the fetcher.
import { expect } from 'chai';
import { parseObjectUri } from '../../api/object-store-uri.js';
import { validateJarUri } from '../../api/validation/jar-uri.js';

describe('object-store jar URIs', () => {
  const good: [string, object][] = [
    ['s3://jobs/wordcount.jar', { store: 's3', scheme: 's3', bucket: 'jobs', key: 'wordcount.jar' }],
    ['s3a://my.bucket-1/a/b/c.jar', { store: 's3', scheme: 's3a', bucket: 'my.bucket-1', key: 'a/b/c.jar' }],
    ['s3p://jobs/x%20y.jar', { store: 's3', bucket: 'jobs', key: 'x y.jar' }],
    ['oss://flink-jobs/job.jar', { store: 'oss', bucket: 'flink-jobs', key: 'job.jar' }],
    ['gs://my_bucket/jars/job.jar', { store: 'gcs', bucket: 'my_bucket', key: 'jars/job.jar' }],
    [
      'wasbs://jars@acct1.blob.core.windows.net/v1/job.jar',
      {
        store: 'azure',
        scheme: 'wasbs',
        bucket: 'jars',
        account: 'acct1',
        host: 'acct1.blob.core.windows.net',
        key: 'v1/job.jar',
        secure: true,
      },
    ],
    [
      'abfs://jars@acct1.dfs.core.chinacloudapi.cn/job.jar',
      { store: 'azure', scheme: 'abfs', bucket: 'jars', account: 'acct1', key: 'job.jar', secure: false },
    ],
  ];
  for (const [uri, expected] of good) it(`reads ${uri}`, () => expect(parseObjectUri(uri)).to.deep.include(expected));

  const bad: [string, RegExp][] = [
    ['s3:///job.jar', /names no bucket/],
    ['s3://Upper/job.jar', /"Upper", which is not a valid S3 bucket name/],
    ['s3://ab/job.jar', /not a valid S3 bucket name/],
    ['s3://a..b/job.jar', /not a valid S3 bucket name/],
    ['oss://jobs/', /names no object in bucket "jobs"/],
    ['gs://jobs', /names no object/],
    ['wasb://acct1.blob.core.windows.net/job.jar', /names no container/],
    ['abfss://Jars@acct1.dfs.core.windows.net/job.jar', /container "Jars", which is not a valid Azure container name/],
    [
      'wasbs://jars@ACCOUNT_1.blob.core.windows.net/job.jar',
      /not <account>.<endpoint> with a valid storage account name/,
    ],
    ['wasbs://jars@acct1.blob.core.windows.net/', /names no object in container "jars"/],
    ['s3://jobs/%zz.jar', /not a valid URI: malformed escape pair/],
  ];
  for (const [uri, message] of bad) {
    it(`refuses ${uri}`, () => {
      const parsed = parseObjectUri(uri);
      expect(parsed).to.have.property('error').that.matches(message);
    });
  }

  it('admission: allowed object-store schemes are checked for their form, with the field path', () => {
    const config = { 'kubernetes.operator.user.artifacts.allowed-schemes': 'https,s3,gs,wasbs' };
    expect(validateJarUri('s3://jobs/job.jar', config, undefined).errors).to.deep.equal([]);
    const refused = validateJarUri('s3://Jobs/job.jar', config, undefined).errors;
    expect(refused.map((e) => e.field)).to.deep.equal(['spec.job.jarURI']);
    expect(refused[0]!.message).to.match(
      /"s3:\/\/Jobs\/job.jar" names bucket "Jobs", which is not a valid S3 bucket name/,
    );
    expect(
      validateJarUri('oss://jobs/job.jar', config, undefined).errors[0]!.message,
      'not allowed: says which key to extend',
    ).to.match(/scheme "oss" is not allowed/);
  });
});
