#!/usr/bin/env node
// flink-operator: the reconciler. Parses its flags and configuration, then runs every controller on the shared
// frame (operator/runtime/): informer caches, a work queue per controller, leader election, health and metrics.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { option, OPTIONS, watchedNamespaces } from '../api/operator-options.js';
import { exitOnUsageError } from '../kube/cli.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { KubeClient } from '../kube/client.js';
import { applyCrds, readCrds } from '../kube/crds.js';
import { readOperatorConfig } from '../kube/operator-config.js';
import { allowedSchemes } from '../api/validation/jar-uri.js';
import { JarFetcher } from './artifacts/jar-fetcher.js';
import { StoreSettings } from './artifacts/store-settings.js';
import { flinkDeploymentController } from './controllers/flink-deployment.js';
import { flinkSessionJobController } from './controllers/flink-session-job.js';
import { flinkStateSnapshotController } from './controllers/flink-state-snapshot.js';
import { RestAddresses } from './flink-rest.js';
import { Manager } from './runtime/manager.js';

// Collect garbage before the heap doubles: reconciles leave short-lived garbage only, and with a thousand resources
// V8's default growth lets the heap float far above the live set (as in the webhook: see webhook/main.ts).
setFlagsFromString('--heap-growing-percent=50');

const argv = await yargs(hideBin(process.argv))
  .scriptName('flink-operator')
  .usage(
    '$0 [--kubeconfig FILE] [--config FILE] [--namespaces a,b]\n\nReconciles FlinkDeployments, FlinkSessionJobs and FlinkStateSnapshots (flink.apache.org/v1beta1).',
  )
  .option('kubeconfig', { type: 'string', describe: 'kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)' })
  .option('config', {
    type: 'string',
    describe: 'operator configuration: flat `key: value` YAML of kubernetes.operator.* and default Flink keys',
  })
  .option('namespaces', {
    type: 'string',
    describe: `comma-separated namespaces to watch (default: ${OPTIONS.watchedNamespaces.key}, else all)`,
  })
  .option('flink-rest-overrides', {
    type: 'string',
    describe: 'JSON file {"<namespace>/<name>": "http://host:port"} of Flink REST addresses, re-read when it changes',
  })
  .option('health-port', {
    type: 'number',
    default: 8085,
    describe: 'port of /healthz, /readyz and /metrics (0: any free port)',
  })
  .option('health-bind-address', { type: 'string', default: '0.0.0.0' })
  .option('crds', {
    type: 'string',
    describe: "directory of the chart's CRDs (a mounted ConfigMap), server-side applied at start",
  })
  .option('identity', { type: 'string', describe: 'leader-election identity (default: host name and a random suffix)' })
  .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] })
  .strict()
  .help()
  .fail(exitOnUsageError)
  .parseAsync();

const logger = pino({ level: argv.logLevel, base: { component: 'flink-operator' } });
const fail = (reason: string): never => {
  logger.fatal({ reason }, 'cannot start');
  process.exit(1);
};

let operatorConfig: Record<string, string> = {};
try {
  operatorConfig = readOperatorConfig(argv.config);
} catch (err) {
  fail((err as Error).message);
}
const conf = <T>(opt: Parameters<typeof option<T>>[1]) => option(operatorConfig, opt);
const namespaces = watchedNamespaces(operatorConfig, argv.namespaces);

const kc =
  (await loadKubeConfig(argv.kubeconfig).catch((err: Error) => fail(err.message))) ??
  fail('no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a cluster');
if (argv.crds) {
  const client = KubeClient.fromKubeConfig(kc, 'flink-operator');
  try {
    logger.info(
      { crds: await applyCrds(client, readCrds(argv.crds), 'flink-operator-ts') },
      'CRDs applied from the chart',
    );
  } catch (err) {
    fail(`cannot apply the CRDs in ${argv.crds}: ${(err as Error).message}`);
  } finally {
    client.close();
  }
}
const identity = argv.identity ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
const parallelism = conf(OPTIONS.reconcileParallelism);

const manager = new Manager({
  kc,
  identity,
  log: logger,
  namespaces,
  workers: parallelism > 0 ? parallelism : OPTIONS.reconcileParallelism.defaultValue,
  baseBackoffMs: conf(OPTIONS.retryInitialInterval),
  maxBackoffMs: Math.min(conf(OPTIONS.retryMaxInterval), 300_000),
  election: conf(OPTIONS.leaderElectionEnabled)
    ? {
        namespace: process.env.OPERATOR_NAMESPACE ?? conf(OPTIONS.leaseNamespace),
        name: conf(OPTIONS.leaseName),
        leaseDurationMs: conf(OPTIONS.leaseDuration),
        renewDeadlineMs: conf(OPTIONS.renewDeadline),
        retryPeriodMs: conf(OPTIONS.retryPeriod),
      }
    : undefined,
  health: { port: argv.healthPort, host: argv.healthBindAddress },
});
const common = {
  identity,
  addresses: new RestAddresses(argv.flinkRestOverrides),
  operatorConfig: () => operatorConfig,
  flinkTimeoutMs: conf(OPTIONS.flinkClientTimeout),
};
const storeSettings = new StoreSettings(() => operatorConfig, KubeClient.fromKubeConfig(kc, 'flink-operator'));
manager.add(flinkDeploymentController(common));
manager.add(
  flinkSessionJobController({
    ...common,
    jars: new JarFetcher({
      cacheDir: conf(OPTIONS.artifactsBaseDir),
      maxBytes: conf(OPTIONS.artifactsMaxSize),
      allowedSchemes: allowedSchemes(operatorConfig),
      disallowRestrictedHosts: conf(OPTIONS.disallowRestrictedHosts),
      totalTimeoutMs: conf(OPTIONS.artifactsDownloadTimeout),
      storeSettings: () => storeSettings.current(),
    }),
    uploadTimeoutMs: conf(OPTIONS.artifactsDownloadTimeout),
  }),
);
manager.add(flinkStateSnapshotController(common));
await manager.start();
