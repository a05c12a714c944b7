#!/usr/bin/env node
// flink-operator: the reconciler. Watches FlinkDeployments and the JobManager Deployments it owns, and reconciles
// each resource on every change and on its own schedule, one worker per resource at a time.
import type { KubernetesObject } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isTrue, parseDurationMs } from '../api/flink-config.js';
import { reconcileTrigger } from '../api/reconcile/plan.js';
import { FLINK_DEPLOYMENT } from '../api/schema/crd.js';
import { KubeClient, type KubeObject } from '../kube/client.js';
import { flinkDeploymentCache, jobManagerDeploymentCache } from '../kube/flink-resources.js';
import type { ObjectCache } from '../kube/informer.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { exitOnUsageError } from '../kube/cli.js';
import { readOperatorConfig } from '../kube/operator-config.js';
import { DeploymentReconciler, type FlinkDeploymentObject, type ReconcilerCaches } from './deployment-reconciler.js';
import { EventRecorder } from './events.js';
import { RestAddresses } from './flink-rest.js';
import { LeaderElector } from './leader-election.js';
import { WorkQueue } from './work-queue.js';

// Collect garbage before the heap doubles: reconciles leave short-lived garbage only, and with a thousand resources
// V8's default growth lets the heap float far above the live set (as in the webhook: see webhook/main.ts).
setFlagsFromString('--heap-growing-percent=50');

const argv = await yargs(hideBin(process.argv))
  .scriptName('flink-operator')
  .usage('$0 [--kubeconfig FILE] [--config FILE] [--namespaces a,b]\n\nReconciles FlinkDeployments (flink.apache.org/v1beta1).')
  .option('kubeconfig', { type: 'string', describe: 'kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)' })
  .option('config', { type: 'string', describe: 'operator configuration: flat `key: value` YAML of kubernetes.operator.* and default Flink keys' })
  .option('namespaces', { type: 'string', describe: 'comma-separated namespaces to watch (default: kubernetes.operator.watched.namespaces, else all)' })
  .option('flink-rest-overrides', { type: 'string', describe: 'JSON file {"<namespace>/<name>": "http://host:port"} of Flink REST addresses, re-read when it changes' })
  .option('health-port', { type: 'number', default: 8085, describe: 'port of /healthz, /readyz and /metrics (0: any free port)' })
  .option('health-bind-address', { type: 'string', default: '0.0.0.0' })
  .option('identity', { type: 'string', describe: 'leader-election identity (default: host name and a random suffix)' })
  .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] })
  .strict()
  .help()
  .fail(exitOnUsageError)
  .parseAsync();

const logger = pino({ level: argv.logLevel, base: { component: 'flink-operator' } });
const fail = (reason: string) => {
  logger.fatal({ reason }, 'cannot start');
  process.exit(1);
};

let operatorConfig: Record<string, string> = {};
try {
  operatorConfig = readOperatorConfig(argv.config);
} catch (err) {
  fail((err as Error).message);
}
const configured = (key: string, fallbackMs: number) => parseDurationMs(operatorConfig[key] ?? '') ?? fallbackMs;
const namespaces = (argv.namespaces ?? operatorConfig['kubernetes.operator.watched.namespaces'] ?? '')
  .split(',')
  .map((n) => n.trim())
  .filter((n) => n && n !== 'JOSDK_ALL_NAMESPACES');

const kc = await loadKubeConfig(argv.kubeconfig).catch((err: Error) => fail(err.message));
if (!kc) fail('no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a cluster');
const identity = argv.identity ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
const client = await KubeClient.fromKubeConfig(kc!, `flink-operator-ts/${identity}`);

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'flink_operator_' });
const reconciles = new Counter({ name: 'flink_operator_reconcile_total', help: 'Reconciles by kind and result', labelNames: ['kind', 'result'], registers: [registry] });
const reconcileSeconds = new Histogram({ name: 'flink_operator_reconcile_duration_seconds', help: 'Time of one reconcile', labelNames: ['kind'], registers: [registry] });
const queueDepth = new Gauge({ name: 'flink_operator_work_queue_depth', help: 'Resources waiting for a worker', registers: [registry] });
const leading = new Gauge({ name: 'flink_operator_is_leader', help: '1 while this process leads', registers: [registry] });

const reconciler = new DeploymentReconciler({
  client,
  events: new EventRecorder(client, identity),
  addresses: new RestAddresses(argv.flinkRestOverrides),
  operatorConfig: () => operatorConfig,
  log: logger,
  flinkTimeoutMs: configured('kubernetes.operator.flink.client.timeout', 10_000),
});

const parallelism = Number(operatorConfig['kubernetes.operator.reconcile.parallelism'] ?? 50);

/** One term of leadership: the watches feed a work queue until `stop`. */
interface Term {
  stop(): Promise<void>;
  synced(): boolean;
}

function lead(): Term {
  const deploymentCaches = new Map<string | undefined, ObjectCache<KubernetesObject>>();
  const jobManagerCaches = new Map<string | undefined, ObjectCache<KubernetesObject>>();
  const scope = (namespace: string) => (namespaces.length > 0 ? namespace : undefined);
  const caches: ReconcilerCaches = {
    flinkDeployment: (namespace, name) => deploymentCaches.get(scope(namespace))?.get(namespace, name) as FlinkDeploymentObject | undefined,
    jobManager: (namespace, name) => jobManagerCaches.get(scope(namespace))?.get(namespace, name) as KubeObject | undefined,
  };
  const queue: WorkQueue = new WorkQueue(
    async (key) => {
      const [namespace, name] = key.split('/') as [string, string];
      const end = reconcileSeconds.startTimer({ kind: FLINK_DEPLOYMENT.kind });
      try {
        const outcome = await reconciler.reconcile(namespace, name, caches);
        reconciles.inc({ kind: FLINK_DEPLOYMENT.kind, result: 'success' });
        return outcome;
      } catch (err) {
        reconciles.inc({ kind: FLINK_DEPLOYMENT.kind, result: 'error' });
        throw err;
      } finally {
        end();
        queueDepth.set(queue.depth);
      }
    },
    {
      workers: parallelism > 0 ? parallelism : 50,
      baseBackoffMs: configured('kubernetes.operator.retry.initial.interval', 1000),
      maxBackoffMs: Math.min(configured('kubernetes.operator.retry.max.interval', 300_000), 300_000),
    },
    (key, err, retryInMs) => logger.warn({ resource: key, reason: (err as Error).message, retryInMs }, 'reconcile failed; retrying with backoff'),
  );
  const enqueue = (obj: { metadata?: { namespace?: string; name?: string } }, name = obj.metadata?.name) => {
    if (obj.metadata?.namespace && name) queue.add(`${obj.metadata.namespace}/${name}`);
  };
  // The trigger of each FlinkDeployment last seen: an update that leaves it alone (status only) is not enqueued.
  const seen = new Map<string, string>();
  const onDeploymentChange = (obj: KubernetesObject, event: 'add' | 'update' | 'delete') => {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    if (event === 'delete') {
      seen.delete(key);
      return enqueue(obj);
    }
    const signature = reconcileTrigger(obj.metadata as Parameters<typeof reconcileTrigger>[0]);
    if (seen.get(key) === signature) return;
    seen.set(key, signature);
    enqueue(obj);
  };
  const onError = (what: string) => (err: unknown, retryInMs: number) => logger.warn({ reason: (err as Error).message, retryInMs }, `${what} watch failed; restarting`);
  for (const namespace of namespaces.length > 0 ? namespaces : [undefined]) {
    deploymentCaches.set(namespace, flinkDeploymentCache(kc!, { namespace, onChange: onDeploymentChange, onError: onError('FlinkDeployment') }));
    jobManagerCaches.set(namespace, jobManagerDeploymentCache(kc!, { namespace, onChange: (obj) => enqueue(obj, obj.metadata?.labels?.app), onError: onError('JobManager Deployment') }));
  }
  const all = [...deploymentCaches.values(), ...jobManagerCaches.values()];
  queue.start();
  return {
    synced: () => all.every((c) => c.synced()),
    stop: async () => {
      await Promise.all(all.map((c) => c.stop()));
      await queue.stop();
    },
  };
}

let term: Term | undefined;
const health = createServer((req, res) => {
  const url = req.url ?? '/';
  const ready = term?.synced() ?? false;
  if (url === '/healthz') return void res.writeHead(200).end('ok');
  if (url === '/readyz') return void res.writeHead(ready ? 200 : 503).end(ready ? 'ok' : 'not leading or not synced');
  if (url === '/metrics') {
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    return;
  }
  res.writeHead(404).end();
});
health.listen(argv.healthPort, argv.healthBindAddress, () => {
  const address = health.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : argv.healthPort }, 'health and metrics listening');
});

const electionEnabled = isTrue(operatorConfig, 'kubernetes.operator.leader-election.enabled');
const elector = electionEnabled
  ? new LeaderElector({
      client,
      namespace: process.env.OPERATOR_NAMESPACE ?? operatorConfig['kubernetes.operator.leader-election.lease-namespace'] ?? 'default',
      name: operatorConfig['kubernetes.operator.leader-election.lease-name'] ?? 'flink-operator-ts-lease',
      identity,
      leaseDurationMs: configured('kubernetes.operator.leader-election.lease-duration', 15_000),
      renewDeadlineMs: configured('kubernetes.operator.leader-election.renew-deadline', 10_000),
      retryPeriodMs: configured('kubernetes.operator.leader-election.retry-period', 2_000),
      log: (msg) => logger.info({ identity }, msg),
    })
  : undefined;

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing reconciles in progress');
  const force = setTimeout(() => process.exit(0), 25_000);
  force.unref();
  await term?.stop();
  await elector?.release();
  health.close();
  client.close();
  logger.info('stopped');
  process.exit(0);
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));

/**
 * Leads until the lease cannot be renewed within the renew deadline (an API server outage, a network split), then
 * stops every watch and worker before anyone else can take the lease, and stands for election again.
 */
async function campaign(): Promise<void> {
  while (!stopping) {
    if (elector) {
      logger.info({ identity }, 'waiting for leadership');
      let lost!: () => void;
      const lostLease = new Promise<void>((resolve) => (lost = resolve));
      await elector.acquire(() => lost());
      if (stopping) return;
      leading.set(1);
      term = lead();
      logger.info({ namespaces: namespaces.length > 0 ? namespaces : 'all', identity }, 'watching and reconciling');
      await lostLease;
      leading.set(0);
      logger.warn({ identity }, 'leadership lost: stopping all work before standing again');
      const ended = term;
      term = undefined;
      await ended.stop();
    } else {
      leading.set(1);
      term = lead();
      logger.info({ namespaces: namespaces.length > 0 ? namespaces : 'all', identity }, 'watching and reconciling');
      return;
    }
  }
}
await campaign();
