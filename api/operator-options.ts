// Every `kubernetes.operator.*` key the code reads, declared once: its type, its default, what it means, the older
// names Flink's key fallbacks still honour, and whether a resource may override it in `spec.flinkConfiguration`.
// The README's configuration table is generated from this list (`npm run generate`).
import { isBlank, parseDurationMs, parseFlinkMemorySize, withFallbacks, type FlatConfig } from './flink-config.js';

export interface OptionBase<T> {
  key: string;
  /** Older names, tried in order when `key` is absent (Flink's ConfigOption#withDeprecatedKeys). */
  deprecatedKeys?: readonly string[];
  /** True when `spec.flinkConfiguration` may override the operator's value, as upstream allows for these keys. */
  perResource: boolean;
  description: string;
  defaultValue: T;
  /** The default as the README shows it. */
  shownDefault: string;
}

export type OperatorOption<T> = OptionBase<T> & {
  parse: (text: string) => T | undefined;
  /** What a readable value looks like, for the message when one is not. */
  expects?: string;
};

export const duration = (
  o: Omit<OptionBase<number>, 'shownDefault'> & { shownDefault: string },
): OperatorOption<number> => ({
  ...o,
  parse: parseDurationMs,
  expects: 'a duration (e.g. 30 s, 5 min)',
});
export const flag = (o: Omit<OptionBase<boolean>, 'shownDefault'>): OperatorOption<boolean> => ({
  ...o,
  shownDefault: String(o.defaultValue),
  parse: (text) =>
    text.trim().toLowerCase() === 'true' ? true : text.trim().toLowerCase() === 'false' ? false : undefined,
  expects: 'true or false',
});
export const text = <T extends string | undefined>(
  o: Omit<OptionBase<T>, 'shownDefault'> & { shownDefault?: string },
): OperatorOption<T> => ({
  ...o,
  shownDefault: o.shownDefault ?? (o.defaultValue === undefined ? '(none)' : String(o.defaultValue)),
  parse: (t) => t as T,
});
const memory = (o: Omit<OptionBase<number>, 'shownDefault'> & { shownDefault: string }): OperatorOption<number> => ({
  ...o,
  parse: parseFlinkMemorySize,
  expects: 'a memory size (e.g. 512m, 2g)',
});
export const integer = (o: Omit<OptionBase<number>, 'shownDefault'>): OperatorOption<number> => ({
  ...o,
  shownDefault: String(o.defaultValue),
  parse: (t) => (/^\s*\d+\s*$/.test(t) ? Number(t) : undefined),
  expects: 'a whole number',
});

export const OPTIONS = {
  reconcileInterval: duration({
    key: 'kubernetes.operator.reconcile.interval',
    perResource: true,
    defaultValue: 60_000,
    shownDefault: '1 min',
    description: 'How often a settled resource is looked at again.',
  }),
  progressCheckInterval: duration({
    key: 'kubernetes.operator.observer.progress-check.interval',
    perResource: true,
    defaultValue: 10_000,
    shownDefault: '10 s',
    description: 'How often Flink is asked while a cluster comes up or a job changes state.',
  }),
  readinessTimeout: duration({
    key: 'kubernetes.operator.deployment.readiness.timeout',
    perResource: true,
    defaultValue: 300_000,
    shownDefault: '5 min',
    description: 'How long a new spec may take to become stable before it is rolled back (with rollback enabled).',
  }),
  rollbackEnabled: flag({
    key: 'kubernetes.operator.deployment.rollback.enabled',
    perResource: true,
    defaultValue: false,
    description:
      'Roll back to the last stable spec when a new one does not become stable within the readiness timeout.',
  }),
  savepointOnDeletion: flag({
    key: 'kubernetes.operator.job.savepoint-on-deletion',
    perResource: true,
    defaultValue: false,
    description: 'Stop the job with a savepoint when its resource is deleted.',
  }),
  drainOnSavepointDeletion: flag({
    key: 'kubernetes.operator.job.drain-on-savepoint-deletion',
    perResource: true,
    defaultValue: false,
    description: 'Drain the job (end of input) when it is stopped with a savepoint on deletion.',
  }),
  blockOnSessionJobs: flag({
    key: 'kubernetes.operator.session.deletion.block-on-session-jobs',
    perResource: true,
    defaultValue: true,
    description: 'A session cluster is not deleted while FlinkSessionJobs name it (event `CleanupFailed`).',
  }),
  inPlaceScaling: flag({
    key: 'kubernetes.operator.job.upgrade.inplace-scaling.enabled',
    perResource: true,
    defaultValue: true,
    description:
      'Change only parallelism overrides of a running job (Flink 1.18+, adaptive scheduler) in place, without a restart.',
  }),
  jobManagerRecovery: flag({
    key: 'kubernetes.operator.jm-deployment-recovery.enabled',
    perResource: true,
    defaultValue: true,
    deprecatedKeys: ['kubernetes.operator.reconciler.jm-deployment-recovery.enabled'],
    description: 'Recreate a JobManager Deployment that was deleted under a running stateless job.',
  }),
  healthCheckEnabled: flag({
    key: 'kubernetes.operator.cluster.health-check.enabled',
    perResource: true,
    defaultValue: false,
    description:
      'Restart jobs that restart too often or stop checkpointing (validated; the check itself is not run yet).',
  }),
  periodicSavepointInterval: text<string | undefined>({
    key: 'kubernetes.operator.periodic.savepoint.interval',
    perResource: true,
    defaultValue: undefined,
    description:
      'A savepoint this often while the job runs: a duration or a Quartz cron expression (UTC; L, W and # not supported). Needs a savepoint directory.',
  }),
  periodicCheckpointInterval: text<string | undefined>({
    key: 'kubernetes.operator.periodic.checkpoint.interval',
    perResource: true,
    defaultValue: undefined,
    description: 'A full checkpoint this often while the job runs: a duration or a Quartz cron expression.',
  }),
  savepointHistoryMaxCount: integer({
    key: 'kubernetes.operator.savepoint.history.max.count',
    perResource: true,
    defaultValue: 10,
    description:
      'Periodic and upgrade savepoints kept (FlinkStateSnapshots, else `savepointInfo.savepointHistory`); older ones are deleted — never the newest, never the one an upgrade restores from.',
  }),
  snapshotResourceEnabled: flag({
    key: 'kubernetes.operator.snapshot.resource.enabled',
    perResource: true,
    defaultValue: true,
    description:
      'Savepoints and checkpoints are FlinkStateSnapshot resources; `false`: the legacy `savepointInfo` / `checkpointInfo` status fields.',
  }),
  savepointDisposeOnDelete: flag({
    key: 'kubernetes.operator.savepoint.dispose-on-delete',
    perResource: true,
    defaultValue: false,
    description:
      'Periodic and upgrade savepoint FlinkStateSnapshots the operator creates dispose of their files when deleted (the history bound deletes them).',
  }),
  savepointHistoryMaxAge: duration({
    key: 'kubernetes.operator.savepoint.history.max.age',
    perResource: true,
    defaultValue: 86_400_000,
    shownDefault: '1 d',
    description: 'Savepoints older than this are disposed the same way.',
  }),
  maxCheckpointAge: text<string | undefined>({
    key: 'kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age',
    perResource: true,
    defaultValue: undefined,
    description:
      'A last-state upgrade older than this takes a savepoint instead (validated: it needs a savepoint directory).',
  }),
  allowedSchemes: text<string | undefined>({
    key: 'kubernetes.operator.user.artifacts.allowed-schemes',
    perResource: false,
    defaultValue: undefined,
    shownDefault: 'https',
    description: 'The `jarURI` schemes a FlinkSessionJob may use (`;`- or `,`-separated).',
  }),
  disallowRestrictedHosts: flag({
    key: 'kubernetes.operator.user.artifacts.disallow-restricted-hosts',
    perResource: false,
    defaultValue: true,
    description: 'Reject jar hosts that resolve to loopback, link-local or private addresses.',
  }),
  artifactsBaseDir: text<string>({
    key: 'kubernetes.operator.user.artifacts.base.dir',
    perResource: false,
    defaultValue: '/opt/flink/artifacts',
    description: 'Where session-job jars are downloaded to (and kept, keyed by URI and ETag, for the next submission).',
  }),
  artifactsMaxSize: memory({
    key: 'kubernetes.operator.user.artifacts.max-size',
    perResource: false,
    defaultValue: 512 * 2 ** 20,
    shownDefault: '512 mb',
    description: 'The largest session-job jar fetched; a larger one is an error naming the URI.',
  }),
  artifactsDownloadTimeout: duration({
    key: 'kubernetes.operator.user.artifacts.download.timeout',
    perResource: false,
    defaultValue: 300_000,
    shownDefault: '5 min',
    description: 'Total deadline of one jar download (redirects included), and of its upload to the session cluster.',
  }),
  artifactsCredentialsSecret: text<string | undefined>({
    key: 'kubernetes.operator.user.artifacts.credentials.secret',
    perResource: false,
    defaultValue: undefined,
    description:
      'A Secret (`<namespace>/<name>`) whose keys, over this configuration, give the object stores their credentials (`s3.access-key`, `fs.azure.account.key.<account>.blob.core.windows.net` …); re-read every 30 s.',
  }),
  artifactsHttpHeaders: text<string | undefined>({
    key: 'kubernetes.operator.user.artifacts.http.header',
    perResource: true,
    defaultValue: undefined,
    description: 'HTTP headers sent with a jar download, `name:value` pairs separated by `,`.',
  }),
  watchedNamespaces: text<string | undefined>({
    key: 'kubernetes.operator.watched.namespaces',
    perResource: false,
    defaultValue: undefined,
    shownDefault: 'all',
    description: 'The namespaces to watch, comma-separated (`--namespaces` wins).',
  }),
  reconcileParallelism: integer({
    key: 'kubernetes.operator.reconcile.parallelism',
    perResource: false,
    defaultValue: 50,
    description: 'Resources reconciled at once (one worker per resource at a time).',
  }),
  flinkClientTimeout: duration({
    key: 'kubernetes.operator.flink.client.timeout',
    perResource: false,
    defaultValue: 10_000,
    shownDefault: '10 s',
    description: 'Total deadline of one Flink REST call.',
  }),
  retryInitialInterval: duration({
    key: 'kubernetes.operator.retry.initial.interval',
    perResource: false,
    defaultValue: 1000,
    shownDefault: '1 s',
    description: 'First backoff after a failed reconcile; it doubles on every further failure.',
  }),
  retryMaxInterval: duration({
    key: 'kubernetes.operator.retry.max.interval',
    perResource: false,
    defaultValue: 300_000,
    shownDefault: '5 min',
    description: 'Longest backoff after failed reconciles (at most 5 min).',
  }),
  leaderElectionEnabled: flag({
    key: 'kubernetes.operator.leader-election.enabled',
    perResource: false,
    defaultValue: false,
    description: 'Only the holder of a `coordination.k8s.io` Lease acts; others stand by.',
  }),
  leaseName: text<string>({
    key: 'kubernetes.operator.leader-election.lease-name',
    perResource: false,
    defaultValue: 'flink-operator-ts-lease',
    description: 'The Lease, in the namespace of `OPERATOR_NAMESPACE`.',
  }),
  leaseNamespace: text<string>({
    key: 'kubernetes.operator.leader-election.lease-namespace',
    perResource: false,
    defaultValue: 'default',
    description: "The Lease's namespace when `OPERATOR_NAMESPACE` is not set.",
  }),
  leaseDuration: duration({
    key: 'kubernetes.operator.leader-election.lease-duration',
    perResource: false,
    defaultValue: 15_000,
    shownDefault: '15 s',
    description: 'How long a standby waits on a lease that is not renewed before it takes it.',
  }),
  renewDeadline: duration({
    key: 'kubernetes.operator.leader-election.renew-deadline',
    perResource: false,
    defaultValue: 10_000,
    shownDefault: '10 s',
    description: 'A leader that has not renewed for this long stops all work (must be below the lease duration).',
  }),
  retryPeriod: duration({
    key: 'kubernetes.operator.leader-election.retry-period',
    perResource: false,
    defaultValue: 2000,
    shownDefault: '2 s',
    description: 'How often the lease is renewed or tried for.',
  }),
} as const;

/** Where an option's value comes from: its key, else its deprecated names; a key present but blank wins over them. */
export const rawOption = (
  conf: FlatConfig,
  option: Pick<OptionBase<unknown>, 'key' | 'deprecatedKeys'>,
): string | undefined => withFallbacks(conf, option.key, option.deprecatedKeys);

/** The option's value in `conf`; its default when absent, blank or unreadable (validation reports the unreadable). */
export function option<T>(conf: FlatConfig, opt: OperatorOption<T>): T {
  const raw = rawOption(conf, opt);
  if (raw === undefined || isBlank(raw)) return opt.defaultValue;
  return opt.parse(raw) ?? opt.defaultValue;
}

/** The option a key names, by its key or one of its deprecated names. */
export function operatorOptionFor(key: string): OperatorOption<unknown> | undefined {
  return (Object.values(OPTIONS) as OperatorOption<unknown>[]).find(
    (o) => o.key === key || (o.deprecatedKeys ?? []).includes(key),
  );
}

/** The README's table of these options (a Markdown table). */
export function optionsTable(options: (OptionBase<unknown> & { acted?: boolean })[] = Object.values(OPTIONS)): string {
  const rows = options.map((o) => {
    const names = [`\`${o.key}\``, ...(o.deprecatedKeys ?? []).map((k) => `<br>(formerly \`${k}\`)`)].join('');
    const meaning = o.acted === false ? `${o.description} *Read, not acted on yet.*` : o.description;
    return `| ${names} | ${o.shownDefault} | ${o.perResource ? 'yes' : 'no'} | ${meaning} |`;
  });
  return ['| key | default | per resource | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The namespaces to watch (`--namespaces`, else the configuration); empty for all (upstream's JOSDK_ALL_NAMESPACES too). */
export function watchedNamespaces(config: FlatConfig, flag?: string): string[] {
  return (flag ?? option(config, OPTIONS.watchedNamespaces) ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n && n !== 'JOSDK_ALL_NAMESPACES');
}
