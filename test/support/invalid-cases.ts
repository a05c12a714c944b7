// One row per validation rule: a resource that breaks it, the field the user must change, and words of the reason.
// Written by hand from the upstream notes §3 and SPEC §3; shared by the pure and the HTTPS tests.
import type { ValidationContext } from '../../api/validation/index.js';

type Json = Record<string, any>;

export const validDeployment = (): Json => ({
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkDeployment',
  metadata: { name: 'orders', namespace: 'team-a' },
  spec: {
    image: 'flink:2.2',
    flinkVersion: 'v2_2',
    serviceAccount: 'flink',
    mode: 'native',
    flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '2' },
    jobManager: { replicas: 1, resource: { memory: '2048m', cpu: 1 } },
    taskManager: { resource: { memory: '2048m', cpu: 1 } },
    job: {
      jarURI: 'local:///opt/flink/examples/streaming/StateMachineExample.jar',
      parallelism: 2,
      upgradeMode: 'stateless',
      state: 'running',
      args: [],
    },
  },
});

export const validSessionJob = (): Json => ({
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkSessionJob',
  metadata: { name: 'wordcount', namespace: 'team-a' },
  spec: {
    deploymentName: 'session',
    job: {
      jarURI: 'https://artifacts.example.com/wordcount.jar',
      parallelism: 1,
      upgradeMode: 'stateless',
      state: 'running',
      args: [],
    },
  },
});

export const sessionCluster = (): Json => {
  const d = validDeployment();
  d.metadata.name = 'session';
  delete d.spec.job;
  return d;
};

export const deployedStatus = (spec: Json): Json => ({
  reconciliationStatus: {
    state: 'DEPLOYED',
    lastReconciledSpec: JSON.stringify({
      spec,
      resource_metadata: { apiVersion: 'flink.apache.org/v1beta1', firstDeployment: true },
    }),
  },
});

export interface InvalidCase {
  title: string;
  kind: 'FlinkDeployment' | 'FlinkSessionJob';
  object: Json;
  field: string;
  reason: RegExp;
  /** Needs facts the HTTPS webhook cannot have without the Kubernetes API (a found session cluster). */
  context?: Partial<ValidationContext>;
}

const fd = (title: string, edit: (d: Json) => void, field: string, reason: RegExp): InvalidCase => {
  const object = validDeployment();
  edit(object);
  return { title, kind: 'FlinkDeployment', object, field, reason };
};

const sj = (
  title: string,
  edit: (j: Json) => void,
  field: string,
  reason: RegExp,
  context?: Partial<ValidationContext>,
): InvalidCase => {
  const object = validSessionJob();
  edit(object);
  return { title, kind: 'FlinkSessionJob', object, field, reason, ...(context ? { context } : {}) };
};

const conf = (d: Json, values: Record<string, string>) => Object.assign(d.spec.flinkConfiguration, values);
const CHECKPOINTS = { 'execution.checkpointing.dir': 'file:///flink-data/checkpoints' };
const found = (edit: (d: Json) => void = () => undefined): Partial<ValidationContext> => {
  const deployment = sessionCluster();
  edit(deployment);
  return { sessionTarget: { state: 'found', deployment } };
};

export const invalidCases: InvalidCase[] = [
  // metadata and required fields
  fd('upper-case name', (d) => (d.metadata.name = 'Orders'), 'metadata.name', /not a valid Flink cluster name/),
  fd('46-character name', (d) => (d.metadata.name = `a${'b'.repeat(45)}`), 'metadata.name', /at most 45/),
  fd('name ending in a dash', (d) => (d.metadata.name = 'orders-'), 'metadata.name', /ending with a letter or digit/),
  fd('no image', (d) => delete d.spec.image, 'spec.image', /is required/),
  fd('blank image', (d) => (d.spec.image = '  '), 'spec.image', /is required/),
  fd('no service account', (d) => delete d.spec.serviceAccount, 'spec.serviceAccount', /is required/),
  fd(
    'no Flink version',
    (d) => delete d.spec.flinkVersion,
    'spec.flinkVersion',
    /is required \(the Flink version of the image: one of v1_19, v1_20, v2_0, v2_1, v2_2, v2_3, v2_4\)/,
  ),
  fd('Flink version below v1_15', (d) => (d.spec.flinkVersion = 'v1_14'), 'spec.flinkVersion', /no longer supported/),
  fd('unknown Flink version', (d) => (d.spec.flinkVersion = 'v9_9'), 'spec.flinkVersion', /must be one of .*"v2_2"/),
  fd(
    'Flink version change after a last-state suspend',
    (d) => {
      const last = validDeployment().spec;
      last.job = { ...last.job, state: 'suspended', upgradeMode: 'last-state' };
      last.flinkVersion = 'v1_20';
      d.status = deployedStatus(last);
      d.spec.job.upgradeMode = 'last-state';
      conf(d, CHECKPOINTS);
    },
    'spec.flinkVersion',
    /suspended with last-state/,
  ),
  // configuration
  fd(
    'kubernetes.namespace set',
    (d) => conf(d, { 'kubernetes.namespace': 'x' }),
    'spec.flinkConfiguration["kubernetes.namespace"]',
    /must not be set/,
  ),
  fd(
    'kubernetes.cluster-id set',
    (d) => conf(d, { 'kubernetes.cluster-id': 'x' }),
    'spec.flinkConfiguration["kubernetes.cluster-id"]',
    /must not be set/,
  ),
  fd(
    'high-availability.cluster-id set (nested YAML)',
    (d) => (d.spec.flinkConfiguration = { 'high-availability': { 'cluster-id': 'x' } }),
    'spec.flinkConfiguration["high-availability.cluster-id"]',
    /must not be set/,
  ),
  fd(
    'rollback without HA',
    (d) => conf(d, { 'kubernetes.operator.deployment.rollback.enabled': 'true' }),
    'spec.flinkConfiguration["high-availability.type"]',
    /HA must be enabled for rollback support/,
  ),
  fd(
    'health check without JobManager deployment recovery',
    (d) =>
      conf(d, {
        'kubernetes.operator.cluster.health-check.enabled': 'true',
        'kubernetes.operator.jm-deployment-recovery.enabled': 'false',
      }),
    'spec.flinkConfiguration["kubernetes.operator.jm-deployment-recovery.enabled"]',
    /must be true when kubernetes.operator.cluster.health-check.enabled/,
  ),
  fd(
    'ingress without template',
    (d) => (d.spec.ingress = { className: 'nginx' }),
    'spec.ingress.template',
    /is required/,
  ),
  fd(
    'periodic savepoint interval that is no period',
    (d) =>
      conf(d, {
        'kubernetes.operator.periodic.savepoint.interval': 'every day',
        'execution.checkpointing.savepoint-dir': 'file:///sp',
      }),
    'spec.flinkConfiguration["kubernetes.operator.periodic.savepoint.interval"]',
    /neither a duration \(e\.g\. 6 h\) nor a Quartz cron expression/,
  ),
  fd(
    'ingress template that is no URL',
    (d) => (d.spec.ingress = { template: 'flink-ui.{{namespace}}:web' }),
    'spec.ingress.template',
    /not give a valid URL/,
  ),
  fd(
    'unknown log configuration file',
    (d) => (d.spec.logConfiguration = { 'log4j.properties': 'x' }),
    'spec.logConfiguration["log4j.properties"]',
    /allowed: log4j-console.properties, logback-console.xml/,
  ),
  // job
  fd(
    'savepoint mode without checkpoint directory',
    (d) => (d.spec.job.upgradeMode = 'savepoint'),
    'spec.flinkConfiguration["execution.checkpointing.dir"]',
    /checkpoint directory is required for upgradeMode savepoint/,
  ),
  fd(
    'savepoint mode without savepoint directory',
    (d) => ((d.spec.job.upgradeMode = 'savepoint'), conf(d, CHECKPOINTS)),
    'spec.flinkConfiguration["execution.checkpointing.savepoint-dir"]',
    /savepoint directory is required for upgradeMode savepoint/,
  ),
  fd(
    'last-state without checkpoint directory',
    (d) => (d.spec.job.upgradeMode = 'last-state'),
    'spec.flinkConfiguration["execution.checkpointing.dir"]',
    /upgradeMode last-state/,
  ),
  fd(
    'manual savepoint without savepoint directory',
    (d) => (d.spec.job.savepointTriggerNonce = 1),
    'spec.flinkConfiguration["execution.checkpointing.savepoint-dir"]',
    /manual savepoints/,
  ),
  fd(
    'periodic savepoints without savepoint directory',
    (d) => conf(d, { 'kubernetes.operator.periodic.savepoint.interval': '1h' }),
    'spec.flinkConfiguration["execution.checkpointing.savepoint-dir"]',
    /periodic savepoints/,
  ),
  fd(
    'max checkpoint age without savepoint directory',
    (d) => conf(d, { 'kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age': '10m' }),
    'spec.flinkConfiguration["execution.checkpointing.savepoint-dir"]',
    /maximum checkpoint age/,
  ),
  fd(
    'parallelism 0 without TaskManager replicas',
    (d) => (d.spec.job.parallelism = 0),
    'spec.job.parallelism',
    /must be ≥ 1 when spec.taskManager.replicas is not set \(got 0\)/,
  ),
  fd(
    'no parallelism without TaskManager replicas',
    (d) => delete d.spec.job.parallelism,
    'spec.job.parallelism',
    /\(got 0\)/,
  ),
  fd(
    'parallelism of the wrong type',
    (d) => (d.spec.job.parallelism = 'two'),
    'spec.job.parallelism',
    /must be an integer \(got string "two"\)/,
  ),
  fd(
    'unknown upgrade mode',
    (d) => (d.spec.job.upgradeMode = 'snapshot'),
    'spec.job.upgradeMode',
    /must be one of "last-state", "savepoint", "stateless" \(got "snapshot"\)/,
  ),
  // JobManager and TaskManager
  fd(
    'no JobManager memory',
    (d) => delete d.spec.jobManager.resource.memory,
    'spec.jobManager.resource.memory',
    /is required \(JobManager memory\)/,
  ),
  fd(
    'no TaskManager section at all',
    (d) => delete d.spec.taskManager,
    'spec.taskManager.resource.memory',
    /is required \(TaskManager memory\)/,
  ),
  fd(
    'JobManager memory that does not parse',
    (d) => (d.spec.jobManager.resource.memory = 'lots'),
    'spec.jobManager.resource.memory',
    /not a memory size/,
  ),
  fd(
    'ephemeral storage that does not parse',
    (d) => (d.spec.taskManager.resource.ephemeralStorage = '2 gigs'),
    'spec.taskManager.resource.ephemeralStorage',
    /not a Kubernetes quantity/,
  ),
  fd(
    'resources memory zero',
    (d) => (d.spec.jobManager.resources = { requests: { memory: '0' } }),
    'spec.jobManager.resources.requests["memory"]',
    /must be positive/,
  ),
  fd(
    'resources cpu zero',
    (d) => (d.spec.taskManager.resources = { limits: { cpu: 0 } }),
    'spec.taskManager.resources.limits["cpu"]',
    /must be positive/,
  ),
  fd(
    'resources storage negative',
    (d) => (d.spec.taskManager.resources = { requests: { 'ephemeral-storage': '-1Gi' } }),
    'spec.taskManager.resources.requests["ephemeral-storage"]',
    /must not be negative/,
  ),
  fd(
    'resources memory that does not parse',
    (d) => (d.spec.taskManager.resources = { requests: { memory: 'much' } }),
    'spec.taskManager.resources.requests["memory"]',
    /not a memory size/,
  ),
  fd(
    'request above limit',
    (d) => (d.spec.taskManager.resources = { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } }),
    'spec.taskManager.resources.requests["memory"]',
    /"4Gi" must not exceed its limit "2Gi"/,
  ),
  fd(
    'TaskManager memory too small for a Flink process',
    (d) => (d.spec.taskManager.resource.memory = '100m'),
    'spec.taskManager.resource.memory',
    /"100m" cannot start a Flink process: JVM metaspace \(256mb\) and JVM overhead \(192mb\) exceed the total process memory taskmanager\.memory\.process\.size \(100mb\)/,
  ),
  fd(
    'JobManager requests too small for its off-heap memory',
    (d) => (d.spec.jobManager.resources = { requests: { memory: '500Mi' } }),
    'spec.jobManager.resources.requests["memory"]',
    /"500Mi" cannot start a Flink process: the total Flink memory \(52mb\) is not more than jobmanager\.memory\.off-heap\.size \(128mb\)/,
  ),
  fd('JobManager replicas 0', (d) => (d.spec.jobManager.replicas = 0), 'spec.jobManager.replicas', /at least 1/),
  fd(
    'standby JobManagers without HA',
    (d) => (d.spec.jobManager.replicas = 2),
    'spec.jobManager.replicas',
    /need high availability/,
  ),
  fd('TaskManager replicas 0', (d) => (d.spec.taskManager.replicas = 0), 'spec.taskManager.replicas', /at least 1/),
  // changes after the first deployment
  fd(
    'session cluster turned application cluster',
    (d) => (d.status = deployedStatus(sessionCluster().spec)),
    'spec.job',
    /cannot be added/,
  ),
  fd(
    'application cluster turned session cluster',
    (d) => ((d.status = deployedStatus(validDeployment().spec)), delete d.spec.job),
    'spec.job',
    /cannot be removed/,
  ),
  fd(
    'native turned standalone',
    (d) => ((d.status = deployedStatus(validDeployment().spec)), (d.spec.mode = 'standalone')),
    'spec.mode',
    /cannot change from native to standalone/,
  ),
  fd(
    'standalone turned native (mode left out)',
    (d) => ((d.status = deployedStatus({ ...validDeployment().spec, mode: 'standalone' })), delete d.spec.mode),
    'spec.mode',
    /cannot change from standalone to native/,
  ),
  fd(
    'savepoint redeploy without a savepoint',
    (d) => ((d.status = deployedStatus(validDeployment().spec)), (d.spec.job.savepointRedeployNonce = 3)),
    'spec.job.initialSavepointPath',
    /required to redeploy from a savepoint/,
  ),
  // session jobs
  sj('no deploymentName', (j) => delete j.spec.deploymentName, 'spec.deploymentName', /is required/),
  sj(
    'invalid deploymentName',
    (j) => (j.spec.deploymentName = 'My_Session'),
    'spec.deploymentName',
    /not a valid Flink cluster name/,
  ),
  sj('no job', (j) => delete j.spec.job, 'spec.job', /is required/),
  sj(
    'deploymentName changed after submission',
    (j) => (j.status = deployedStatus({ ...validSessionJob().spec, deploymentName: 'other' })),
    'spec.deploymentName',
    /cannot change after the job was submitted \(was "other"\)/,
  ),
  sj('jarURI without scheme', (j) => (j.spec.job.jarURI = 'wordcount.jar'), 'spec.job.jarURI', /must include a scheme/),
  sj(
    'jarURI scheme not allowed',
    (j) => (j.spec.job.jarURI = 'http://artifacts.example.com/wordcount.jar'),
    'spec.job.jarURI',
    /scheme "http" is not allowed \(allowed: https\)/,
  ),
  sj('jarURI that is no URI', (j) => (j.spec.job.jarURI = 'https://'), 'spec.job.jarURI', /not a valid URI/),
  sj(
    'jarURI on loopback',
    (j) => (j.spec.job.jarURI = 'https://127.0.0.1/x.jar'),
    'spec.job.jarURI',
    /restricted address \(127\.0\.0\.1\)/,
  ),
  sj(
    'jarURI on IPv6 loopback',
    (j) => (j.spec.job.jarURI = 'https://[::1]/x.jar'),
    'spec.job.jarURI',
    /restricted address/,
  ),
  sj(
    'jarURI host resolving to a private address',
    (j) => (j.spec.job.jarURI = 'https://jars.internal/x.jar'),
    'spec.job.jarURI',
    /"jars.internal" resolves to a restricted address \(10\.1\.2\.3\)/,
    {
      jarHost: { host: 'jars.internal', addresses: ['151.101.65.69', '10.1.2.3'] },
    },
  ),
  sj('target is an application cluster', () => undefined, 'spec.deploymentName', /is an application cluster/, {
    sessionTarget: { state: 'found', deployment: validDeployment() },
  }),
  sj(
    'parallelism 0 on a found session cluster',
    (j) => (j.spec.job.parallelism = 0),
    'spec.job.parallelism',
    /must be ≥ 1 \(got 0\)/,
    found(),
  ),
  sj(
    'savepoint mode without directories on the session cluster',
    (j) => (j.spec.job.upgradeMode = 'savepoint'),
    'spec.flinkConfiguration["execution.checkpointing.dir"]',
    /checkpoint directory/,
    found(),
  ),
];
