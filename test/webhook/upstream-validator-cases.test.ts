// The cases of upstream's DefaultValidatorTest that concern FlinkDeployment and FlinkSessionJob, restated by hand in
// our own words: the resource each case builds and the verdict upstream expects. Cases that need no cluster facts go
// through the real HTTPS webhook; those that need a found session cluster or a different operator configuration go
// through the same pure validation the webhook calls. Where ours deliberately differs, the entry says so and why
// (README, "Admission: deliberate differences"); every other entry must agree.
import { expect } from 'chai';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB } from '../../api/schema/crd.js';
import { validateResource, type ValidationContext } from '../../api/validation/index.js';
import { parseOperatorConfig } from '../../api/flink-config.js';
import { admissionReview } from '../support/reviews.js';
import { startWebhook, type WebhookProcess } from '../support/webhook-process.js';

type Json = Record<string, any>;

/** Upstream's fixture (BaseTestUtils): HA by factory class name, both snapshot directories, requests of 1 cpu and 2048m. */
const fixture = (): Json => ({
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkDeployment',
  metadata: { name: 'test-cluster', namespace: 'flink-operator-test' },
  spec: {
    image: 'flink:latest',
    imagePullPolicy: 'IfNotPresent',
    serviceAccount: 'flink-operator',
    flinkVersion: 'v2_2',
    flinkConfiguration: {
      'taskmanager.numberOfTaskSlots': '2',
      'high-availability.type': 'org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory',
      'high-availability.storageDir': 'test',
      'execution.checkpointing.savepoint-dir': 'test-savepoint-dir',
      'execution.checkpointing.dir': 'file:///test/test-checkpoint-dir',
    },
    jobManager: {
      replicas: 1,
      resources: {
        requests: { cpu: '1', memory: '2048m', 'ephemeral-storage': '2G' },
        limits: { 'ephemeral-storage': '2G' },
      },
    },
    taskManager: {
      resources: {
        requests: { cpu: '1', memory: '2048m', 'ephemeral-storage': '2G' },
        limits: { 'ephemeral-storage': '2G' },
      },
    },
    job: { jarURI: 'local:///tmp/sample.jar', parallelism: 1, upgradeMode: 'stateless', state: 'running' },
  },
});

/** The fixture on the deprecated `resource` form (1 cpu, 2048m, 2G ephemeral storage). */
const deprecatedResource = (d: Json) => {
  for (const c of ['jobManager', 'taskManager']) {
    delete d.spec[c].resources;
    d.spec[c].resource = { cpu: 1, memory: '2048m', ephemeralStorage: '2G' };
  }
};

const session = (): Json => {
  const d = fixture();
  delete d.spec.job;
  return d;
};

const sessionJob = (): Json => ({
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkSessionJob',
  metadata: { name: 'test-session-job', namespace: 'flink-operator-test' },
  spec: {
    deploymentName: 'test-cluster',
    flinkConfiguration: { 'kubernetes.operator.user.artifacts.http.header': 'header' },
    job: { jarURI: 'https://example.com/sample.jar', parallelism: 1, upgradeMode: 'stateless', state: 'running' },
  },
});

/** Upstream's serializeAndSetLastReconciledSpec: the given spec becomes the last reconciled one. */
const reconciled = (resource: Json, spec: Json) => {
  resource.status = {
    ...resource.status,
    reconciliationStatus: {
      state: 'DEPLOYED',
      lastReconciledSpec: JSON.stringify({
        spec,
        resource_metadata: { apiVersion: 'flink.apache.org/v1beta1', firstDeployment: true },
      }),
    },
  };
};

interface Case {
  what: string;
  object: Json;
  allowed: boolean;
  /** Words upstream's message starts with or contains — and ours must say the same thing in its words. */
  ours?: RegExp;
  /** A found session cluster, or an operator configuration: decided by the pure validation. */
  context?: Partial<ValidationContext>;
}

const dep = (what: string, edit: (d: Json) => void, allowed: boolean, ours?: RegExp): Case => {
  const object = fixture();
  edit(object);
  return { what, object, allowed, ...(ours ? { ours } : {}) };
};
const old = (what: string, edit: (d: Json) => void, allowed: boolean, ours?: RegExp) =>
  dep(what, (d) => (deprecatedResource(d), edit(d)), allowed, ours);
const conf = (d: Json, values: Record<string, string>) => (d.spec.flinkConfiguration = values);
const resources = (d: Json, component: string, value: Json) => (d.spec[component].resources = value);

const deploymentCases: Case[] = [
  dep('the fixture as it is', () => undefined, true),
  dep('named session-cluster', (d) => (d.metadata.name = 'session-cluster'), true),
  dep('named session-cluster-1.13 (a dot)', (d) => (d.metadata.name = 'session-cluster-1.13'), false, /metadata\.name/),
  dep('job suspended', (d) => (d.spec.job.state = 'suspended'), true),
  dep('job running', (d) => (d.spec.job.state = 'running'), true),
  dep(
    'parallelism 0 without TaskManager replicas',
    (d) => (d.spec.job.parallelism = 0),
    false,
    /spec\.job\.parallelism/,
  ),
  dep('TaskManager replicas 0', (d) => (d.spec.taskManager = { replicas: 0 }), false, /spec\.taskManager\.replicas/),
  dep(
    'parallelism 0 with one TaskManager replica',
    (d) => ((d.spec.taskManager.replicas = 1), (d.spec.job.parallelism = 0)),
    true,
  ),
  dep(
    'savepoint mode without a savepoint directory',
    (d) => (
      delete d.spec.flinkConfiguration['execution.checkpointing.savepoint-dir'],
      (d.spec.job.upgradeMode = 'savepoint')
    ),
    false,
    /savepoint-dir/,
  ),
  dep(
    'savepoint mode without a checkpoint directory',
    (d) => (delete d.spec.flinkConfiguration['execution.checkpointing.dir'], (d.spec.job.upgradeMode = 'savepoint')),
    false,
    /checkpointing\.dir/,
  ),
  dep(
    'last-state mode without a checkpoint directory',
    (d) => (delete d.spec.flinkConfiguration['execution.checkpointing.dir'], (d.spec.job.upgradeMode = 'last-state')),
    false,
    /checkpointing\.dir/,
  ),
  dep(
    'stateless mode without a checkpoint directory',
    (d) => (delete d.spec.flinkConfiguration['execution.checkpointing.dir'], (d.spec.job.upgradeMode = 'stateless')),
    true,
  ),
  dep(
    'a savepoint trigger nonce with no configuration at all',
    (d) => (conf(d, {}), (d.spec.job.savepointTriggerNonce = 42)),
    false,
    /savepoint/,
  ),
  dep(
    'periodic savepoints without a savepoint directory',
    (d) => conf(d, { 'kubernetes.operator.periodic.savepoint.interval': '1m' }),
    false,
    /savepoint-dir/,
  ),
  dep(
    'a last-state checkpoint max age without a savepoint directory',
    (d) => conf(d, { 'kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age': '1m' }),
    false,
    /savepoint-dir/,
  ),
  dep('an unknown configuration key alone', (d) => conf(d, { random: 'config' }), true),
  dep(
    'kubernetes.namespace in flinkConfiguration',
    (d) => conf(d, { 'kubernetes.namespace': 'myns' }),
    false,
    /kubernetes\.namespace/,
  ),
  dep(
    'high-availability.cluster-id in flinkConfiguration',
    (d) => (d.spec.flinkConfiguration['high-availability.cluster-id'] = 'my-cluster-id'),
    false,
    /high-availability\.cluster-id/,
  ),
  dep(
    'the health check on with deployment recovery off',
    (d) =>
      conf(d, {
        'kubernetes.operator.cluster.health-check.enabled': 'true',
        'kubernetes.operator.jm-deployment-recovery.enabled': 'false',
      }),
    false,
    /jm-deployment-recovery/,
  ),
  dep(
    'a log4j-console.properties log configuration',
    (d) => (d.spec.logConfiguration = { 'log4j-console.properties': 'rootLogger.level = INFO' }),
    true,
  ),
  dep('an ingress without a template', (d) => (d.spec.ingress = {}), false, /spec\.ingress\.template/),
  dep(
    'an ingress template example.com:port',
    (d) => (d.spec.ingress = { template: 'example.com:port' }),
    false,
    /spec\.ingress\.template/,
  ),
  dep(
    'an ingress template example.com/{{namespace}}/{{name}}',
    (d) => (d.spec.ingress = { template: 'example.com/{{namespace}}/{{name}}' }),
    true,
  ),
  dep(
    'a log configuration file named random',
    (d) => (d.spec.logConfiguration = { random: 'config' }),
    false,
    /spec\.logConfiguration/,
  ),
  dep(
    'two JobManagers without HA',
    (d) => (conf(d, {}), (d.spec.jobManager.replicas = 2)),
    false,
    /spec\.jobManager\.replicas/,
  ),
  dep(
    'rollback enabled without HA',
    (d) => conf(d, { 'kubernetes.operator.deployment.rollback.enabled': 'true' }),
    false,
    /HA must be enabled for rollback/,
  ),
  dep('JobManager replicas 0', (d) => (d.spec.jobManager.replicas = 0), false, /spec\.jobManager\.replicas/),
  // The deprecated `resource` form.
  old('TaskManager memory 1G', (d) => (d.spec.taskManager.resource.memory = '1G'), true),
  // Deliberate difference: upstream admits it and leaves the TaskManager to fail at start-up; no Flink process fits in
  // 100 bytes (its derivation needs 448 MB for metaspace and overhead alone), so ours refuses it at the field.
  old(
    'TaskManager memory 100 (bytes)',
    (d) => (d.spec.taskManager.resource.memory = '100'),
    false,
    /spec\.taskManager\.resource\.memory: TaskManager memory "100" cannot start a Flink process/,
  ),
  old('JobManager memory 1Gi', (d) => (d.spec.jobManager.resource.memory = '1Gi'), true),
  old('TaskManager memory 1Gi', (d) => (d.spec.taskManager.resource.memory = '1Gi'), true),
  old(
    'TaskManager memory "invalid"',
    (d) => (d.spec.taskManager.resource.memory = 'invalid'),
    false,
    /spec\.taskManager\.resource\.memory/,
  ),
  old(
    'JobManager memory "invalid"',
    (d) => (d.spec.jobManager.resource.memory = 'invalid'),
    false,
    /spec\.jobManager\.resource\.memory/,
  ),
  old(
    'no TaskManager memory',
    (d) => delete d.spec.taskManager.resource.memory,
    false,
    /spec\.taskManager\.resource\.memory/,
  ),
  old(
    'no JobManager memory',
    (d) => delete d.spec.jobManager.resource.memory,
    false,
    /spec\.jobManager\.resource\.memory/,
  ),
  old(
    'no TaskManager memory, a task heap alone',
    (d) => (delete d.spec.taskManager.resource.memory, conf(d, { 'taskmanager.memory.task.heap.size': '1024m' })),
    false,
    /TaskManager/,
  ),
  old(
    'no JobManager memory, a 2048m JVM heap',
    (d) => (delete d.spec.jobManager.resource.memory, conf(d, { 'jobmanager.memory.heap.size': '2048m' })),
    true,
  ),
  old(
    'no TaskManager memory, 2048m of total Flink memory',
    (d) => (delete d.spec.taskManager.resource.memory, conf(d, { 'taskmanager.memory.flink.size': '2048m' })),
    true,
  ),
  old(
    'no TaskManager memory, task heap and managed memory',
    (d) => (
      delete d.spec.taskManager.resource.memory,
      conf(d, { 'taskmanager.memory.task.heap.size': '1024m', 'taskmanager.memory.managed.size': '1024m' })
    ),
    true,
  ),
  old(
    'JobManager ephemeral storage "abc"',
    (d) => (d.spec.jobManager.resource.ephemeralStorage = 'abc'),
    false,
    /spec\.jobManager\.resource\.ephemeralStorage/,
  ),
  old(
    'TaskManager ephemeral storage "abc"',
    (d) => (d.spec.taskManager.resource.ephemeralStorage = 'abc'),
    false,
    /spec\.taskManager\.resource\.ephemeralStorage/,
  ),
  // The `resources` form.
  dep('JobManager requests 2Gi only', (d) => resources(d, 'jobManager', { requests: { memory: '2Gi' } }), true),
  dep(
    'TaskManager requests 2Gi and 500m cpu',
    (d) => resources(d, 'taskManager', { requests: { memory: '2Gi', cpu: '500m' } }),
    true,
  ),
  dep(
    'both request 2Gi',
    (d) => (
      resources(d, 'jobManager', { requests: { memory: '2Gi' } }),
      resources(d, 'taskManager', { requests: { memory: '2Gi' } })
    ),
    true,
  ),
  dep(
    'limits only, on both',
    (d) => (
      resources(d, 'jobManager', { limits: { memory: '2Gi', cpu: '2' } }),
      resources(d, 'taskManager', { limits: { memory: '2Gi', cpu: '2' } })
    ),
    true,
  ),
  dep(
    'TaskManager memory request "abc"',
    (d) => resources(d, 'taskManager', { requests: { memory: 'abc' } }),
    false,
    /spec\.taskManager\.resources\.requests\["memory"\]/,
  ),
  dep(
    'JobManager cpu request "notacpu"',
    (d) => resources(d, 'jobManager', { requests: { memory: '2Gi', cpu: 'notacpu' } }),
    false,
    /spec\.jobManager\.resources\.requests\["cpu"\]/,
  ),
  dep(
    'TaskManager memory limit "xyz"',
    (d) => resources(d, 'taskManager', { requests: { memory: '2Gi' }, limits: { memory: 'xyz' } }),
    false,
    /spec\.taskManager\.resources\.limits\["memory"\]/,
  ),
  dep(
    'TaskManager cpu request -1',
    (d) => resources(d, 'taskManager', { requests: { memory: '2Gi', cpu: '-1' } }),
    false,
    /spec\.taskManager\.resources\.requests\["cpu"\]: must be positive/,
  ),
  dep(
    'TaskManager ephemeral-storage request -1Gi',
    (d) => resources(d, 'taskManager', { requests: { memory: '2Gi', 'ephemeral-storage': '-1Gi' } }),
    false,
    /must not be negative/,
  ),
  dep(
    'TaskManager memory request -2Gi',
    (d) => resources(d, 'taskManager', { requests: { memory: '-2Gi' } }),
    false,
    /spec\.taskManager\.resources\.requests\["memory"\]/,
  ),
  dep(
    'TaskManager cpu request 0',
    (d) => resources(d, 'taskManager', { requests: { memory: '2Gi', cpu: '0' } }),
    false,
    /must be positive/,
  ),
  dep(
    'TaskManager memory request 0',
    (d) => resources(d, 'taskManager', { requests: { memory: '0' } }),
    false,
    /must be positive/,
  ),
  dep(
    'TaskManager memory request 4Gi over a 2Gi limit',
    (d) => resources(d, 'taskManager', { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } }),
    false,
    /must not exceed its limit/,
  ),
  dep(
    'TaskManager cpu request 1 over a 500m limit',
    (d) => resources(d, 'taskManager', { requests: { memory: '2Gi', cpu: '1' }, limits: { cpu: '500m' } }),
    false,
    /must not exceed its limit/,
  ),
  dep(
    'requests below their limits',
    (d) =>
      resources(d, 'taskManager', { requests: { memory: '2Gi', cpu: '500m' }, limits: { memory: '4Gi', cpu: '1' } }),
    true,
  ),
  // Against the last reconciled spec.
  dep(
    'a savepoint upgrade from a suspended job with a savepoint',
    (d) => {
      const last = structuredClone(d.spec);
      last.job.state = 'suspended';
      reconciled(d, last);
      d.status.jobStatus = { savepointInfo: { lastSavepoint: { location: 'sp', triggerType: 'UPGRADE' } } };
      d.spec.flinkConfiguration['execution.checkpointing.savepoint-dir'] = 'file:///flink-data/savepoints';
      d.spec.job.upgradeMode = 'savepoint';
    },
    true,
  ),
  dep(
    'an application cluster turned session cluster',
    (d) => (reconciled(d, structuredClone(d.spec)), delete d.spec.job),
    false,
    /spec\.job/,
  ),
  dep(
    'a session cluster turned application cluster',
    (d) => {
      const last = structuredClone(d.spec);
      delete last.job;
      reconciled(d, last);
    },
    false,
    /spec\.job/,
  ),
  ...(
    [
      ['native', 'standalone'],
      [undefined, 'standalone'],
      ['standalone', undefined],
      ['standalone', 'native'],
    ] as const
  ).map(([from, to]) =>
    dep(
      `mode ${from ?? '(unset)'} changed to ${to ?? '(unset)'}`,
      (d) => {
        const last = structuredClone(d.spec);
        if (from) last.mode = from;
        reconciled(d, last);
        if (to) d.spec.mode = to;
        else delete d.spec.mode;
      },
      false,
      /spec\.mode/,
    ),
  ),
  dep('no Flink version', (d) => delete d.spec.flinkVersion, false, /spec\.flinkVersion/),
  dep('Flink v1_14', (d) => (d.spec.flinkVersion = 'v1_14'), false, /spec\.flinkVersion/),
  dep('Flink v1_15', (d) => (d.spec.flinkVersion = 'v1_15'), true),
  dep('Flink v1_18', (d) => (d.spec.flinkVersion = 'v1_18'), true),
  dep('Flink v1_19', (d) => (d.spec.flinkVersion = 'v1_19'), true),
  dep('no service account', (d) => delete d.spec.serviceAccount, false, /spec\.serviceAccount/),
  dep('service account flink', (d) => (d.spec.serviceAccount = 'flink'), true),
  dep(
    'last-state with HA kubernetes',
    (d) => (
      (d.spec.job.upgradeMode = 'last-state'),
      (d.spec.flinkConfiguration['high-availability.type'] = 'kubernetes')
    ),
    true,
  ),
  // savepointRedeployNonce against the last reconciled spec.
  ...redeployCases(),
  // flinkVersion changes from v1_19 to v2_2 after a suspend or while running.
  ...versionChangeCases(),
];

function redeployCases(): Case[] {
  const redeploy = (
    what: string,
    before: [number | undefined, string | undefined],
    after: [number | undefined, string | undefined],
    allowed: boolean,
  ) =>
    dep(
      what,
      (d) => {
        const set = (job: Json, [nonce, path]: [number | undefined, string | undefined]) => {
          if (nonce === undefined) delete job.savepointRedeployNonce;
          else job.savepointRedeployNonce = nonce;
          if (path === undefined) delete job.initialSavepointPath;
          else job.initialSavepointPath = path;
        };
        const last = structuredClone(d.spec);
        set(last.job, before);
        reconciled(d, last);
        set(d.spec.job, after);
      },
      allowed,
      allowed ? undefined : /spec\.job\.initialSavepointPath/,
    );
  return [
    redeploy('a first redeploy nonce with a savepoint path', [undefined, undefined], [1, 's'], true),
    redeploy('the nonce removed, the path kept', [1, 's'], [undefined, 's'], true),
    redeploy('the nonce and the path removed', [1, 's'], [undefined, undefined], true),
    redeploy('the nonce bumped with a path', [1, 's'], [2, 's'], true),
    redeploy('a first nonce without a path', [undefined, undefined], [1, undefined], false),
    redeploy('a first nonce with a blank path', [undefined, undefined], [1, ' '], false),
    redeploy('the nonce bumped, the path removed', [1, 's'], [2, undefined], false),
  ];
}

function versionChangeCases(): Case[] {
  const modes = ['stateless', 'savepoint', 'last-state'] as const;
  const change = (from: string, to: string, state: string, allowed: boolean) =>
    dep(
      `v1_19 → v2_2 after ${from} ${state}, now ${to}`,
      (d) => {
        d.spec.job.upgradeMode = to;
        const last = structuredClone(d.spec);
        last.job.upgradeMode = from;
        last.job.state = state;
        last.flinkVersion = 'v1_19';
        reconciled(d, last);
      },
      allowed,
      allowed ? undefined : /spec\.flinkVersion/,
    );
  return modes.flatMap((to) => [
    change('last-state', to, 'suspended', to === 'stateless'),
    ...modes.map((from) => change(from, to, 'running', true)),
    change('savepoint', to, 'suspended', true),
    change('stateless', to, 'suspended', true),
  ]);
}

const job = (
  what: string,
  edit: (j: Json) => void,
  allowed: boolean,
  ours?: RegExp,
  context?: Partial<ValidationContext>,
): Case => {
  const object = sessionJob();
  edit(object);
  return { what, object, allowed, ...(ours ? { ours } : {}), ...(context ? { context } : {}) };
};
const found = (edit: (d: Json) => void = () => undefined): Partial<ValidationContext> => {
  const deployment = session();
  edit(deployment);
  return { sessionTarget: { state: 'found', deployment } };
};
const operator = (yaml: string): Partial<ValidationContext> => ({ operatorConfig: parseOperatorConfig(yaml) });
const jar = (uri: string, allowed: boolean, ours?: RegExp, context?: Partial<ValidationContext>) =>
  job(`jarURI ${uri}`, (j) => (j.spec.job.jarURI = uri), allowed, ours, context);

const sessionJobCases: Case[] = [
  job('the fixture with its session', () => undefined, true, undefined, found()),
  job('the fixture, no session found', () => undefined, true),
  job(
    'a session that is an application cluster',
    () => undefined,
    false,
    /spec\.deploymentName/,
    found((d) => (d.spec.job = { jarURI: 'local:///tmp/sample.jar', parallelism: 1 })),
  ),
  job('last-state mode', (j) => (j.spec.job.upgradeMode = 'last-state'), true, undefined, found()),
  job(
    'artifact HTTP headers',
    (j) =>
      (j.spec.flinkConfiguration = {
        'kubernetes.operator.user.artifacts.http.header': 'headerKey1:headerValue1,headerKey2:headerValue2',
      }),
    true,
    undefined,
    found(),
  ),
  job(
    'periodic savepoints configured on the job',
    (j) => (j.spec.flinkConfiguration = { 'kubernetes.operator.periodic.savepoint.interval': '1m' }),
    true,
    undefined,
    found(),
  ),
  job(
    'deploymentName changed after submission',
    (j) => (reconciled(j, structuredClone(j.spec)), (j.spec.deploymentName = 'new-deployment-name')),
    false,
    /spec\.deploymentName/,
    found(),
  ),
  job(
    'savepoint mode with directories on the job, none on the session',
    (j) => {
      j.spec.job.upgradeMode = 'savepoint';
      j.spec.flinkConfiguration = {
        'execution.checkpointing.savepoint-dir': 'test-savepoint-dir',
        'execution.checkpointing.dir': 'test-checkpoint-dir',
      };
    },
    true,
    undefined,
    found((d) => (d.spec.flinkConfiguration = {})),
  ),
  // Jar URIs under the default allow-list (https) with the restricted-host check on.
  jar('https://example.com/path/to/job.jar', true),
  ...[
    'http://example.com/job.jar',
    'file:///var/run/secrets/kubernetes.io/serviceaccount/token',
    's3://my-bucket/job.jar',
    'local:///tmp/sample.jar',
  ].map((u) => jar(u, false, /scheme ".*" is not allowed/)),
  jar('/no/scheme/job.jar', false, /must include a scheme/),
  jar('ht tp://bad uri', false, /is not a valid URI/),
  jar(
    'S3://my-bucket/job.jar',
    true,
    undefined,
    operator('kubernetes.operator.user.artifacts.allowed-schemes: https;s3\n'),
  ),
  jar(
    's3://my-bucket/job.jar',
    true,
    undefined,
    operator('kubernetes.operator.user.artifacts.allowed-schemes: https;s3\n'),
  ),
  jar(
    'file:///etc/passwd',
    false,
    /scheme "file" is not allowed/,
    operator('kubernetes.operator.user.artifacts.allowed-schemes: https;s3\n'),
  ),
  job(
    'the job widening the allow-list to file itself',
    (j) => {
      j.spec.flinkConfiguration = { 'kubernetes.operator.user.artifacts.allowed-schemes': 'https;file' };
      j.spec.job.jarURI = 'file:///etc/passwd';
    },
    false,
    /scheme "file" is not allowed/,
    operator('kubernetes.operator.user.artifacts.allowed-schemes: https;s3\n'),
  ),
  ...[
    'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'https://127.0.0.1/job.jar',
    'https://localhost/job.jar',
    'https://10.0.0.1/job.jar',
    'https://192.168.1.1/job.jar',
  ].map((u) => jar(u, false, /resolves to a restricted address/)),
  jar(
    'https://127.0.0.1/job.jar',
    true,
    undefined,
    operator('kubernetes.operator.user.artifacts.disallow-restricted-hosts: "false"\n'),
  ),
];

/** Upstream's testValidationWithDefaultConfig: HA and a checkpoint directory from the operator's defaults. */
const defaultConfigCase: Case = {
  ...dep(
    'last-state with everything from the operator defaults',
    (d) => (conf(d, {}), (d.spec.job.upgradeMode = 'last-state')),
    true,
  ),
  context: operator(
    'high-availability.type: org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory\nexecution.checkpointing.dir: cpdir\n',
  ),
};

const all = [...deploymentCases, defaultConfigCase, ...sessionJobCases];

describe("upstream's DefaultValidatorTest cases, restated (issue 17)", function () {
  this.timeout(30_000);
  let webhook: WebhookProcess;
  before(async () => (webhook = await startWebhook()));
  after(async () => webhook.stop());

  const verdict = async (c: Case): Promise<{ allowed: boolean; message: string }> => {
    if (c.context) {
      const kind = c.object.kind === 'FlinkDeployment' ? FLINK_DEPLOYMENT : FLINK_SESSION_JOB;
      const v = validateResource(kind, c.object, { operatorConfig: {}, ...c.context });
      return { allowed: v.errors.length === 0, message: v.errors.map((e) => `${e.field}: ${e.message}`).join(', ') };
    }
    const response = (await webhook.post('/validate', admissionReview(c.object as never))).json<{
      response: { allowed: boolean; status?: { message: string } };
    }>().response;
    return { allowed: response.allowed, message: response.status?.message ?? '' };
  };

  for (const c of all) {
    it(`${c.object.kind}: ${c.what} → ${c.allowed ? 'admitted' : 'rejected'}`, async () => {
      const { allowed, message } = await verdict(c);
      expect(allowed, message).to.equal(c.allowed);
      if (c.ours) expect(message, message).to.match(c.ours);
    });
  }
});
