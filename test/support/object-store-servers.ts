// Real servers of each object-store protocol, for the session-job jar tests: moto's S3 server and a Cloud Storage
// emulator (gcp-storage-emulator) from PyPI in a virtualenv cached by their versions, and Azurite (npm) for Blob
// Storage with accounts of our own — each on a loopback port, filled through the clouds' own SDKs.
import { GetObjectCommand, CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Storage } from '@google-cloud/storage';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../../local/control-plane/binaries.js';
import { freePort, ManagedProcess } from '../../local/control-plane/process.js';
import { httpCall } from '../../local/http.js';
import { repoRoot } from '../../local/stack.js';
import { requireTool, runTool } from '../../local/tools.js';

const PYTHON_SERVERS = ['moto[server]==5.2.5', 'gcp-storage-emulator==2026.7.19'];

/** A jar in every store, one over the size cap, and the credentials each store knows. */
export interface ObjectStoreServers {
  s3Endpoint: string;
  gcsEndpoint: string;
  /** Azurite's Blob endpoint; accounts are in the path (`<endpoint>/<account>`). */
  azureEndpoint: string;
  /** Azure accounts Azurite knows, with their keys. */
  azureAccounts: Record<string, string>;
  s3Credentials: { accessKeyId: string; secretAccessKey: string };
  stopGcs(): Promise<void>;
  stop(): Promise<void>;
}

/** The virtualenv with the Python servers, made once per set of versions (a virtualenv cannot be moved: made in place). */
async function pythonServers(): Promise<string> {
  const dir = join(
    cacheRoot(),
    `object-store-servers-${createHash('sha256').update(PYTHON_SERVERS.join('\n')).digest('hex').slice(0, 12)}`,
  );
  if (existsSync(join(dir, '.complete'))) return join(dir, 'bin');
  requireTool('python3', ['--version'], 'the object-store tests run moto and gcp-storage-emulator from PyPI');
  rmSync(dir, { recursive: true, force: true });
  await runTool('python3', ['-m', 'venv', dir], repoRoot);
  await runTool(
    join(dir, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', ...PYTHON_SERVERS],
    repoRoot,
  );
  writeFileSync(join(dir, '.complete'), `${PYTHON_SERVERS.join('\n')}\n`);
  return join(dir, 'bin');
}

async function serve(
  name: string,
  command: string,
  args: string[],
  dir: string,
  ready: () => Promise<boolean>,
  env: Record<string, string> = {},
): Promise<ManagedProcess> {
  const process = new ManagedProcess({ name, command, args, logFile: join(dir, `${name}.log`), env });
  process.start();
  await process.waitReady(ready, 60_000);
  return process;
}

const answers = (url: string) => async () => (await httpCall(url).catch(() => ({ status: 0 }))).status > 0;

export async function startObjectStoreServers(dir: string, files: Record<string, Buffer>): Promise<ObjectStoreServers> {
  mkdirSync(dir, { recursive: true });
  const bin = await pythonServers();
  const [s3Port, gcsPort, azurePort] = [await freePort(), await freePort(), await freePort()];
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  const gcsEndpoint = `http://127.0.0.1:${gcsPort}`;
  const azureEndpoint = `http://127.0.0.1:${azurePort}`;
  const azureAccounts = {
    storeacct1: randomBytes(64).toString('base64'),
    storeacct2: randomBytes(64).toString('base64'),
  };
  const s3Credentials = { accessKeyId: 'AKIDSTORETEST', secretAccessKey: randomBytes(24).toString('hex') };

  const moto = await serve(
    'moto',
    join(bin, 'moto_server'),
    ['-H', '127.0.0.1', '-p', String(s3Port)],
    dir,
    answers(`${s3Endpoint}/moto-api/`),
  );
  const gcs = await serve(
    'gcs-emulator',
    join(bin, 'gcp-storage-emulator'),
    ['start', '--host=127.0.0.1', `--port=${gcsPort}`, '--in-memory'],
    dir,
    answers(`${gcsEndpoint}/storage/v1/b`),
  );
  const azurite = await serve(
    'azurite',
    process.execPath,
    [
      join(repoRoot, 'node_modules/azurite/dist/src/blob/main.js'),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(azurePort),
      '--location',
      join(dir, 'azurite'),
      '--silent',
      '--skipApiVersionCheck',
      '--disableProductStyleUrl',
    ],
    dir,
    answers(`${azureEndpoint}/storeacct1?comp=list`),
    {
      AZURITE_ACCOUNTS: Object.entries(azureAccounts)
        .map(([a, k]) => `${a}:${k}`)
        .join(';'),
    },
  );

  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: s3Credentials,
  });
  const gcsClient = new Storage({ apiEndpoint: gcsEndpoint, projectId: 'flink-operator-ts' });
  const blobs = new BlobServiceClient(
    `${azureEndpoint}/storeacct1`,
    new StorageSharedKeyCredential('storeacct1', azureAccounts.storeacct1),
  );
  for (const bucket of ['jars', 'oss-jars']) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await gcsClient.createBucket('gs-jars');
  await blobs.getContainerClient('jars').create();
  for (const [name, body] of Object.entries(files)) {
    for (const bucket of ['jars', 'oss-jars'])
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: name, Body: body }));
    await gcsClient.bucket('gs-jars').file(name).save(body, { resumable: false });
    await blobs.getContainerClient('jars').getBlockBlobClient(name).uploadData(body);
  }
  // What went in comes out, through each SDK: the servers really hold the jars.
  const back = await s3.send(new GetObjectCommand({ Bucket: 'jars', Key: Object.keys(files)[0] }));
  if ((await back.Body!.transformToByteArray()).length !== Object.values(files)[0]!.length)
    throw new Error('moto did not keep the jar');
  s3.destroy();

  return {
    s3Endpoint,
    gcsEndpoint,
    azureEndpoint,
    azureAccounts,
    s3Credentials,
    stopGcs: () => gcs.stop(5000),
    async stop() {
      for (const p of [moto, gcs, azurite]) await p.stop(5000);
    },
  };
}
