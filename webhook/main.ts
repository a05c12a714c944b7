#!/usr/bin/env node
// flink-webhook: the admission server (default command) and `certs` for local certificates.
import { mkdirSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseDurationMs } from '../api/flink-config.js';
import { exitOnUsageError } from '../kube/cli.js';
import { readOperatorConfig } from '../kube/operator-config.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { namespacedCache, type ObjectCache } from '../kube/informer.js';
import { watchedNamespaces } from '../api/operator-options.js';
import { loadKubeConfig, type LiveKubeConfig } from '../kube/kubeconfig.js';
import { KubeClient } from '../kube/client.js';
import type { SelfProvisionedTls } from './self-provisioned-tls.js';
import { certificateFiles } from './tls.js';
import { clusterLookupsFrom, withoutKubernetesApi, type ClusterLookups } from './facts.js';
import { startWebhookServer } from './server.js';

// Collect garbage before the heap doubles: reviews leave only short-lived garbage, and without this V8 lets the
// heap grow ~4x over the live set (peak RSS 155 MB instead of ~115 MB at 4,000 reviews/s). No hard cap: a burst
// of 3 MiB reviews must still fit.
setFlagsFromString('--heap-growing-percent=50');

await yargs(hideBin(process.argv))
  .scriptName('flink-webhook')
  .usage(
    '$0 [serve] (--tls-cert-file FILE --tls-private-key-file FILE | --tls-secret NAME --tls-host DNS ...)\n\nAdmission webhook for FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot.',
  )
  .command(
    ['serve', '$0'],
    'serve /mutate and /validate over HTTPS',
    (y) =>
      y
        .option('port', { type: 'number', default: 9443, describe: 'HTTPS port' })
        .option('bind-address', { type: 'string', default: '0.0.0.0', describe: 'address to listen on' })
        .option('tls-cert-file', {
          type: 'string',
          describe: 'serving certificate (PEM), reloaded when it changes (cert-manager, local use)',
        })
        .option('tls-private-key-file', { type: 'string', describe: 'private key of the certificate (PEM)' })
        .option('tls-secret', {
          type: 'string',
          describe: 'self-provisioned TLS: the Secret (in --tls-namespace) that keeps its CA and certificate',
        })
        .option('tls-namespace', { type: 'string', describe: 'namespace of --tls-secret (default: POD_NAMESPACE)' })
        .option('tls-host', {
          type: 'string',
          array: true,
          describe: 'DNS name the self-provisioned certificate is for (repeatable)',
        })
        .option('mutating-webhook-configuration', {
          type: 'string',
          default: 'flink-operator-ts',
          describe: 'whose caBundle self-provisioned TLS keeps current',
        })
        .option('validating-webhook-configuration', {
          type: 'string',
          default: 'flink-operator-ts',
          describe: 'whose caBundle self-provisioned TLS keeps current',
        })
        .option('tls-ca-lifetime', {
          type: 'string',
          default: '87600h',
          describe: 'lifetime of a self-provisioned CA (renewed two thirds in)',
        })
        .option('tls-serving-lifetime', {
          type: 'string',
          default: '8760h',
          describe: 'lifetime of a self-provisioned serving certificate (renewed two thirds in)',
        })
        .option('tls-propagation', {
          type: 'string',
          default: '60s',
          describe: 'how long a new caBundle is trusted before a certificate it signs is served',
        })
        .option('tls-poll', {
          type: 'string',
          default: '10s',
          describe: 'how often each replica looks at --tls-secret',
        })
        .check((a) => {
          if (Boolean(a.tlsCertFile) !== Boolean(a.tlsPrivateKeyFile))
            throw new Error('--tls-cert-file and --tls-private-key-file go together');
          if (Boolean(a.tlsCertFile) === Boolean(a.tlsSecret))
            throw new Error('give either --tls-cert-file/--tls-private-key-file or --tls-secret');
          if (a.tlsSecret && !(a.tlsHost as string[] | undefined)?.length)
            throw new Error("--tls-secret needs --tls-host (the webhook Service's DNS names)");
          return true;
        })
        .option('kubeconfig', {
          type: 'string',
          describe:
            'kubeconfig for looking up session clusters (default: KUBECONFIG, ~/.kube/config, in-cluster; none: run without API access)',
        })
        .option('config', {
          type: 'string',
          describe: 'operator configuration: flat `key: value` YAML of kubernetes.operator.* and default Flink keys',
        })
        .option('request-timeout', {
          type: 'string',
          default: '10s',
          describe: 'a client that has not sent its whole request by then gets 408 (e.g. 10s)',
        })
        .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] }),
    async (argv) => {
      const logger = pino({ level: argv.logLevel, base: { component: 'flink-webhook' } });
      let webhook;
      let cluster: ClusterLookups = withoutKubernetesApi;
      const caches: ObjectCache<KubernetesObject>[] = [];
      try {
        const operatorConfig = readOperatorConfig(argv.config);
        const kc = await loadKubeConfig(argv.kubeconfig);
        if (kc) {
          const { flinkDeploymentCache, flinkSessionJobCache, serviceAccountCache } =
            await import('../kube/flink-resources.js');
          const client = KubeClient.fromKubeConfig(kc, 'flink-webhook');
          const onError = (what: string) => (err: unknown, retryInMs: number) =>
            logger.warn(
              { reason: errorLine(err), retryInMs },
              `${what} watch failed; ${what}s are not checked until it recovers`,
            );
          // Only the watched namespaces (the chart's webhooks gate only those, and its RBAC grants only those).
          const namespaces = watchedNamespaces(operatorConfig);
          const deployments = namespacedCache(namespaces, (namespace) =>
            flinkDeploymentCache(client, { namespace, onError: onError('FlinkDeployment') }),
          );
          const sessionJobs = namespacedCache(namespaces, (namespace) =>
            flinkSessionJobCache(client, { namespace, onError: onError('FlinkSessionJob') }),
          );
          const serviceAccounts = namespacedCache(namespaces, (namespace) =>
            serviceAccountCache(client, { namespace, onError: onError('ServiceAccount') }),
          );
          caches.push(deployments, sessionJobs, serviceAccounts);
          cluster = clusterLookupsFrom(deployments, sessionJobs, serviceAccounts);
        } else {
          logger.warn(
            'no kubeconfig and not in a cluster: session clusters and ServiceAccounts cannot be checked; session jobs are admitted with a warning',
          );
        }
        const certificates = argv.tlsSecret
          ? await selfProvisioned(argv, kc, logger)
          : certificateFiles(argv.tlsCertFile!, argv.tlsPrivateKeyFile!, (err) =>
              logger.warn(
                { reason: err.message },
                'new certificate files are not usable yet; still serving the previous certificate',
              ),
            );
        webhook = await startWebhookServer({
          cluster,
          port: argv.port,
          host: argv.bindAddress,
          certificates,
          operatorConfig,
          requestTimeoutMs: durationFlag('--request-timeout', argv.requestTimeout),
          logger,
        });
      } catch (err) {
        logger.fatal({ reason: (err as Error).message }, 'cannot start');
        process.exit(1);
      }
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down: finishing in-flight reviews');
        const force = setTimeout(() => process.exit(0), 25_000);
        force.unref();
        void Promise.all([webhook.close(), ...caches.map((c) => c.stop())]).then(() => {
          logger.info('stopped');
          process.exit(0);
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    },
  )
  .command(
    'certs',
    'write a private CA and a serving certificate for local use (ca.crt, tls.crt, tls.key)',
    (y) =>
      y
        .option('out', { type: 'string', demandOption: true, describe: 'directory to write to' })
        .option('host', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'DNS name or IP address the certificate is for (repeatable)',
        })
        .option('days', { type: 'number', default: 365, describe: 'validity in days' }),
    async (argv) => {
      const { issueCertificates } = await import('./certs.js');
      const { ca, serving } = issueCertificates(argv.host.map(String), argv.days);
      mkdirSync(argv.out, { recursive: true });
      writeFileSync(join(argv.out, 'ca.crt'), ca.certPem);
      writeFileSync(join(argv.out, 'ca.key'), ca.keyPem, { mode: 0o600 });
      writeFileSync(join(argv.out, 'tls.crt'), serving.certPem);
      writeFileSync(join(argv.out, 'tls.key'), serving.keyPem, { mode: 0o600 });
      console.log(`wrote ca.crt, ca.key, tls.crt and tls.key to ${argv.out} for ${argv.host.join(', ')}`);
    },
  )
  .strict()
  .demandCommand(0)
  .help()
  .fail(exitOnUsageError)
  .parseAsync();

interface SelfProvisionedFlags {
  tlsSecret?: string;
  tlsNamespace?: string;
  tlsHost?: string[];
  mutatingWebhookConfiguration: string;
  validatingWebhookConfiguration: string;
  tlsCaLifetime: string;
  tlsServingLifetime: string;
  tlsPropagation: string;
  tlsPoll: string;
}

/** The Secret-kept CA and certificate, provisioned (or picked up) before the server listens. */
async function selfProvisioned(
  argv: SelfProvisionedFlags,
  kc: LiveKubeConfig | undefined,
  logger: Logger,
): Promise<SelfProvisionedTls> {
  const namespace = argv.tlsNamespace ?? process.env.POD_NAMESPACE;
  if (!kc || !namespace)
    throw new Error('--tls-secret needs the Kubernetes API and a namespace (--tls-namespace or POD_NAMESPACE)');
  // node-forge (~4 MB of the webhook's memory) is loaded only where certificates are made: not for certificate files.
  const { SelfProvisionedTls } = await import('./self-provisioned-tls.js');
  const tls = new SelfProvisionedTls({
    client: KubeClient.fromKubeConfig(kc, 'flink-webhook'),
    namespace,
    secretName: argv.tlsSecret!,
    mutatingWebhookConfiguration: argv.mutatingWebhookConfiguration,
    validatingWebhookConfiguration: argv.validatingWebhookConfiguration,
    policy: {
      caLifetimeMs: durationFlag('--tls-ca-lifetime', argv.tlsCaLifetime),
      servingLifetimeMs: durationFlag('--tls-serving-lifetime', argv.tlsServingLifetime),
      hosts: argv.tlsHost!.map(String),
      propagationMs: durationFlag('--tls-propagation', argv.tlsPropagation),
    },
    pollMs: durationFlag('--tls-poll', argv.tlsPoll),
    log: logger.child({ tls: argv.tlsSecret }),
  });
  await tls.start();
  return tls;
}

function durationFlag(flag: string, value: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0)
    throw new Error(`${flag} ${JSON.stringify(value)} is not a duration such as 10s or 500ms`);
  return ms;
}

function errorLine(err: unknown): string {
  const e = err as { message?: string; code?: number | string; statusCode?: number };
  return `${e.statusCode ?? e.code ?? ''} ${e.message ?? String(err)}`.trim().split('\n')[0]!;
}
