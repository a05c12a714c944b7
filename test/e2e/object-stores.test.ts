// FlinkSessionJob jars from object stores end to end: real servers of each protocol (moto's S3, Azurite, a Cloud
// Storage emulator), the operator reading its credentials from a Secret named in its configuration, and the jobs
// running in the stack's real Flink session. Failures are each a clear status.error and a Warning event, retried, and
// no secret value is in the operator's log, the events or the status.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_OPERATOR_NAMESPACE } from '../../local/control-plane/pki.js';
import { ensureFlinkRunner } from '../../local/flink/runner-build.js';
import { repoRoot } from '../../local/stack.js';
import { Storage } from '@google-cloud/storage';
import {
  apply,
  events,
  expectFetchFailures,
  getSessionJob,
  patchSpec,
  runningIds,
  sessionJob,
  statefulSession,
  waitForSessionJob,
} from '../support/flink-deployments.js';
import { startObjectStoreServers, type ObjectStoreServers } from '../support/object-store-servers.js';
import { eventually, kubectl, localStack, runAlone, scratchDir, useStackNamespace } from '../support/stack.js';

const SECRET = 'flink-operator-ts-artifact-credentials';
const MAX_BYTES = 8 * 2 ** 20;

describe('FlinkSessionJob jars from object stores (S3, OSS, Cloud Storage, Azure Blob and Data Lake)', function () {
  const namespace = useStackNamespace(this);
  this.timeout(600_000);
  let servers: ObjectStoreServers;
  let secrets: string[];
  let jar: Buffer;

  before(async () => {
    jar = readFileSync((await ensureFlinkRunner(join(repoRoot, 'local/flink-runner'), () => undefined)).examplesJar);
    // Over the cap, and a zip so that only the size can refuse it.
    const big = Buffer.concat([jar.subarray(0, 4), Buffer.alloc(MAX_BYTES + 1024)]);
    servers = await startObjectStoreServers(await scratchDir('object-stores'), { 'job.jar': jar, 'big.jar': big });
    const credentials: Record<string, string> = {
      's3.access-key': servers.s3Credentials.accessKeyId,
      's3.secret-key': servers.s3Credentials.secretAccessKey,
      'fs.oss.accessKeyId': servers.s3Credentials.accessKeyId,
      'fs.oss.accessKeySecret': servers.s3Credentials.secretAccessKey,
      'fs.azure.account.key.storeacct1.blob.core.windows.net': servers.azureAccounts.storeacct1!,
      // storeacct2 exists, but this is not its key.
      'fs.azure.account.key.storeacct2.dfs.core.windows.net': Buffer.from(
        'not the key of storeacct2, same length as a real one: 64 bytes!!',
      ).toString('base64'),
    };
    secrets = Object.values(credentials);
    const created = await kubectl([
      'create',
      'secret',
      'generic',
      SECRET,
      '-n',
      LOCAL_OPERATOR_NAMESPACE,
      ...Object.entries(credentials).map(([k, v]) => `--from-literal=${k}=${v}`),
    ]);
    expect(created.code, created.stderr).to.equal(0);
    const allowed = { 'kubernetes.operator.user.artifacts.allowed-schemes': 'https,s3,s3a,s3p,oss,gs,wasb,abfs' };
    const stack = await localStack();
    await stack.stopWebhook();
    await stack.startWebhook({ config: allowed });
    await runAlone('stores', {
      config: {
        ...allowed,
        'kubernetes.operator.user.artifacts.max-size': `${MAX_BYTES / 2 ** 20} mb`,
        'kubernetes.operator.user.artifacts.credentials.secret': `${LOCAL_OPERATOR_NAMESPACE}/${SECRET}`,
        's3.endpoint': servers.s3Endpoint,
        's3.path.style.access': 'true',
        'fs.oss.endpoint': servers.s3Endpoint,
        'fs.gs.storage.root.url': servers.gcsEndpoint,
        'fs.azure.abfs.endpoint': servers.azureEndpoint,
      },
    });
  });

  after(async () => {
    const stack = await localStack();
    await stack.stopOperator('stores');
    if (!stack.operator()?.running()) await stack.startOperator();
    await stack.stopWebhook();
    await stack.startWebhook();
    await kubectl(['delete', 'secret', SECRET, '-n', LOCAL_OPERATOR_NAMESPACE, '--ignore-not-found']);
    await servers?.stop();
  });

  const good: [string, string][] = [
    ['from-s3', 's3://jars/job.jar'],
    ['from-s3a', 's3a://jars/job.jar'],
    ['from-s3p', 's3p://jars/job.jar'],
    ['from-oss', 'oss://oss-jars/job.jar'],
    ['from-gs', 'gs://gs-jars/job.jar'],
    ['from-wasb', 'wasb://jars@storeacct1.blob.core.windows.net/job.jar'],
    ['from-abfs', 'abfs://jars@storeacct1.dfs.core.windows.net/job.jar'],
  ];

  it('a session job per scheme runs its jar from the store in the real Flink session', async () => {
    const ns = namespace();
    await apply(ns, statefulSession());
    for (const [name, uri] of good)
      await apply(ns, sessionJob(name, 'session', { jarURI: uri, parallelism: 1, upgradeMode: 'stateless' }));
    for (const [name, uri] of good) {
      const stable = await waitForSessionJob(ns, name, 'STABLE');
      expect(stable.status?.error, `${name} (${uri})`).to.equal(undefined);
      expect(stable.status?.jar, `${name}: the jar it runs, in status`).to.deep.include({ uri, bytes: jar.length });
      expect(stable.status?.jar?.version, `${name}: its version`).to.be.a('string').and.not.equal('');
    }
    expect(await runningIds(ns, 'session'), 'one Flink job per session job').to.have.length(good.length);

    // Kept by URI and version: a restart with the object unchanged fetches nothing; a new generation is fetched.
    const submissions = async (name: string) => {
      const log = readFileSync(
        join((await localStack()).controlPlane.pki.dir, '..', 'logs', 'flink-operator-stores.log'),
        'utf8',
      );
      return log
        .split('\n')
        .filter((l) => l.includes('"session job submitted"') && l.includes(`"name":"${name}"`))
        .map((l) => JSON.parse(l) as { jar?: string; downloaded: boolean });
    };
    const restarted = async (name: string, nonce: number) => {
      const before = (await submissions(name)).length;
      await patchSpec(ns, name, { restartNonce: nonce }, 'flinksessionjob');
      return eventually(`${name} submitted again`, async () => (await submissions(name)).at(before), 120_000);
    };
    const s3First = (await getSessionJob(ns, 'from-s3'))!.status!.jar!;
    expect(await restarted('from-s3', 1), 'the same ETag: the kept copy').to.deep.include({
      jar: s3First.version,
      downloaded: false,
    });
    const gsFirst = (await getSessionJob(ns, 'from-gs'))!.status!.jar!;
    await new Storage({ apiEndpoint: servers.gcsEndpoint, projectId: 'flink-operator-ts' })
      .bucket('gs-jars')
      .file('job.jar')
      .save(jar, { resumable: false });
    const again = await restarted('from-gs', 1);
    expect(again.downloaded, 'a new generation: fetched again').to.equal(true);
    expect(again.jar).to.not.equal(gsFirst.version);
    const recorded = await eventually(
      'the new generation in status',
      async () => {
        const s = (await getSessionJob(ns, 'from-gs'))?.status;
        return s?.jar?.version === again.jar && s?.lifecycleState === 'STABLE' ? s : undefined;
      },
      120_000,
    );
    expect(recorded.jar?.bytes).to.equal(jar.length);
  });

  it('wrong credentials, a missing object, a jar over the cap, an unreachable endpoint: each a clear error and a Warning event, retried; no secret anywhere', async () => {
    const ns = namespace();
    await apply(ns, statefulSession());
    await servers.stopGcs();
    const cases: [string, string, RegExp][] = [
      [
        'wrong-key',
        'abfs://jars@storeacct2.dfs.core.windows.net/job.jar',
        /: access denied to abfs:\/\/jars@storeacct2\.dfs\.core\.windows\.net\/job\.jar \(403 (AuthenticationFailed|AuthorizationFailure)\): check fs\.azure\.account\.key\./,
      ],
      [
        'missing',
        's3://jars/missing.jar',
        /: no such object: s3:\/\/jars\/missing\.jar at http:\/\/127\.0\.0\.1:\d+ \(404/,
      ],
      [
        'too-big',
        's3://jars/big.jar',
        new RegExp(
          `: ${MAX_BYTES + 1028} bytes is over the ${MAX_BYTES}-byte limit \\(kubernetes\\.operator\\.user\\.artifacts\\.max-size\\)$`,
        ),
      ],
      [
        'unreachable',
        'gs://gs-jars/job.jar',
        /: gs:\/\/gs-jars\/job\.jar at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
      ],
    ];
    await expectFetchFailures(ns, cases, 90_000);
    await eventually(
      'retried with backoff',
      async () => ((await events(ns, 'missing')).find((e) => e.type === 'Warning')?.count ?? 0) >= 2,
      90_000,
    );
    expect(await runningIds(ns, 'session'), 'nothing ran').to.deep.equal([]);

    const stack = await localStack();
    const said = [
      readFileSync(join(stack.controlPlane.pki.dir, '..', 'logs', 'flink-operator-stores.log'), 'utf8'),
      (await kubectl(['get', 'events', '-n', ns, '-o', 'json'])).stdout,
      (await kubectl(['get', 'flinksessionjobs', '-n', ns, '-o', 'json'])).stdout,
    ].join('\n');
    for (const secret of secrets)
      expect(said.includes(secret), 'a credential in the log, an event or a status').to.equal(false);
  });
});
