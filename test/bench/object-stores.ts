// What object-store support costs the operator: its start and memory with no object-store URI in use, then its
// memory after a session job from each store ran (each store's SDK is loaded only then). Real servers of each
// protocol (moto, gcp-storage-emulator, Azurite), a real Flink session, the operator as the stack runs it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_OPERATOR_NAMESPACE } from '../../local/control-plane/pki.js';
import { ensureFlinkRunner } from '../../local/flink/runner-build.js';
import { LocalStack, repoRoot } from '../../local/stack.js';
import { startObjectStoreServers } from '../support/object-store-servers.js';
import { memoryMb, Report, until } from './report.js';
import { session } from './session-jobs.js';

const STORES: [string, string][] = [
  ['s3', 's3://jars/job.jar'],
  ['oss', 'oss://oss-jars/job.jar'],
  ['gcs', 'gs://gs-jars/job.jar'],
  ['azure', 'abfs://jars@storeacct1.dfs.core.windows.net/job.jar'],
];

export async function benchObjectStores(): Promise<void> {
  const report = new Report(
    "object-stores: the operator's start and memory before any object-store URI, then after one job from each store",
  );
  const stateDir = mkdtempSync(join(tmpdir(), 'flink-operator-ts-bench-'));
  const stack = await LocalStack.start({ stateDir });
  const jar = readFileSync(
    (await ensureFlinkRunner(join(repoRoot, 'local/flink-runner'), () => undefined)).examplesJar,
  );
  const servers = await startObjectStoreServers(join(stateDir, 'object-stores'), { 'job.jar': jar });
  try {
    const kubectl = (args: string[], input?: string) => stack.kubectl(args, input === undefined ? {} : { input });
    await kubectl([
      'create',
      'secret',
      'generic',
      'flink-operator-ts-artifact-credentials',
      '-n',
      LOCAL_OPERATOR_NAMESPACE,
      `--from-literal=s3.access-key=${servers.s3Credentials.accessKeyId}`,
      `--from-literal=s3.secret-key=${servers.s3Credentials.secretAccessKey}`,
      `--from-literal=fs.oss.accessKeyId=${servers.s3Credentials.accessKeyId}`,
      `--from-literal=fs.oss.accessKeySecret=${servers.s3Credentials.secretAccessKey}`,
      `--from-literal=fs.azure.account.key.storeacct1.blob.core.windows.net=${servers.azureAccounts.storeacct1}`,
    ]);
    const allowed = { 'kubernetes.operator.user.artifacts.allowed-schemes': 'https,s3,oss,gs,abfs' };
    await stack.stopWebhook();
    await stack.startWebhook({ config: allowed });
    await stack.stopOperator('operator');
    const started = Date.now();
    const operator = await stack.startOperator('stores', {
      config: {
        ...allowed,
        'kubernetes.operator.user.artifacts.credentials.secret': `${LOCAL_OPERATOR_NAMESPACE}/flink-operator-ts-artifact-credentials`,
        's3.endpoint': servers.s3Endpoint,
        'fs.oss.endpoint': servers.s3Endpoint,
        'fs.gs.storage.root.url': servers.gcsEndpoint,
        'fs.azure.abfs.endpoint': servers.azureEndpoint,
      },
    });
    await until(async () => operator.logTail(200).includes('became leader') || undefined, 60_000, 20);
    report.add('object-stores.operator.start-to-leader', Date.now() - started, 'ms');

    await stack.createNamespace('bench');
    await kubectl(['apply', '-n', 'bench', '-f', '-'], JSON.stringify(session(STORES.length)));
    const lifecycle = (kind: string, name: string) =>
      kubectl(['get', kind, name, '-n', 'bench', '-o', 'jsonpath={.status.lifecycleState}']);
    await until(async () => (await lifecycle('flinkdeployment', 'session')) === 'STABLE' || undefined, 300_000, 500);
    await new Promise((r) => setTimeout(r, 5000));
    report.add('object-stores.operator.rss.none-in-use', memoryMb(operator.pid!, 'VmRSS'), 'MB');
    for (const [store, uri] of STORES) {
      await kubectl(['apply', '-n', 'bench', '-f', '-'], JSON.stringify(job(`from-${store}`, uri)));
      await until(
        async () => (await lifecycle('flinksessionjob', `from-${store}`)) === 'STABLE' || undefined,
        300_000,
        250,
      );
      report.add(`object-stores.operator.rss.after-${store}`, memoryMb(operator.pid!, 'VmRSS'), 'MB');
    }
    report.add('object-stores.operator.rss.high-water', memoryMb(operator.pid!, 'VmHWM'), 'MB');
    report.summary([
      'RSS is read from /proc after each job is STABLE; the stores are added one after another, so each figure includes the ones before.',
      'Start is the operator process spawned until it leads (it imports no store SDK).',
    ]);
  } finally {
    await servers.stop();
    await stack.stop();
  }
}

function job(name: string, jarURI: string): object {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkSessionJob',
    metadata: { name },
    spec: { deploymentName: 'session', job: { jarURI, parallelism: 1, upgradeMode: 'stateless' } },
  };
}
