// Where our /validate disagreed with upstream's DefaultValidator (issue 17), case by case through the real HTTPS
// webhook. Inputs and verdicts written by hand from upstream's rules (DefaultValidator.java and Flink's own
// HighAvailabilityMode, MemorySize and ConfigOption fallbacks), never produced by the code under test.
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startWebhookServer, type WebhookServer } from '../../webhook/server.js';
import { certificateFiles } from '../../webhook/tls.js';
import type { Lookup } from '../../webhook/facts.js';
import { admissionReview } from '../support/reviews.js';
import { deployedStatus, validDeployment, validSessionJob } from '../support/invalid-cases.js';
import { startWebhook, writeCertificates, type WebhookProcess } from '../support/webhook-process.js';

type Json = Record<string, any>;
interface Response {
  allowed: boolean;
  warnings?: string[];
  status?: { message: string };
}

const withConf = (d: Json, conf: Record<string, string>) => (
  (d.spec.flinkConfiguration = { ...d.spec.flinkConfiguration, ...conf }),
  d
);
const deployment = (edit: (d: Json) => void) => {
  const d = validDeployment();
  edit(d);
  return d;
};
const sessionJob = (edit: (j: Json) => void) => {
  const j = validSessionJob();
  edit(j);
  return j;
};

interface Row {
  row: string;
  what: string;
  object: Json;
  oldObject?: Json;
  allowed: boolean;
  reason?: RegExp;
}

const rows: Row[] = [
  // 1: the jar allow-list and the restricted-host switch come from the operator configuration only.
  {
    row: '1',
    what: 'a session job switching the restricted-host check off for itself',
    allowed: false,
    reason: /spec\.job\.jarURI: host "169\.254\.169\.254" resolves to a restricted address/,
    object: sessionJob(
      (j) => (
        (j.spec.flinkConfiguration = { 'kubernetes.operator.user.artifacts.disallow-restricted-hosts': 'false' }),
        (j.spec.job.jarURI = 'https://169.254.169.254/latest/job.jar')
      ),
    ),
  },
  {
    row: '1',
    what: 'a session job widening the allowed schemes for itself',
    allowed: false,
    reason: /spec\.job\.jarURI: scheme "http" is not allowed/,
    object: sessionJob(
      (j) => (
        (j.spec.flinkConfiguration = { 'kubernetes.operator.user.artifacts.allowed-schemes': 'https,http' }),
        (j.spec.job.jarURI = 'http://8.8.8.8/job.jar')
      ),
    ),
  },
  // 9: java.net.URI reads `https:///x.jar` as having no host (WHATWG URL would take "x.jar" as the host).
  {
    row: '9',
    what: 'a jar URI without a host',
    allowed: false,
    reason: /spec\.job\.jarURI: "https:\/\/\/job\.jar" must include a host for http and https/,
    object: sessionJob((j) => (j.spec.job.jarURI = 'https:///job.jar')),
  },
  {
    row: '9',
    what: 'a port past 65535 (java.net.URI reads any int port)',
    allowed: true,
    object: sessionJob((j) => (j.spec.job.jarURI = 'https://8.8.8.8:99999/job.jar')),
  },
  {
    row: '9',
    what: 'a host with an underscore (a registry-based authority: no host to Java)',
    allowed: false,
    reason: /must include a host for http and https/,
    object: sessionJob((j) => (j.spec.job.jarURI = 'https://my_host.example.com/job.jar')),
  },
  {
    row: '9',
    what: 'a space in the path',
    allowed: false,
    reason: /spec\.job\.jarURI: .* is not a valid URI: illegal character at index 22/,
    object: sessionJob((j) => (j.spec.job.jarURI = 'https://example.com/my job.jar')),
  },
  // 9: java.net.URL builds the ingress URL: any int port, a port that is no number is malformed.
  {
    row: '9',
    what: 'an ingress template with port 99999',
    allowed: true,
    object: deployment((d) => (d.spec.ingress = { template: '{{name}}.example.com:99999' })),
  },
  {
    row: '9',
    what: 'an ingress template whose port is a word',
    allowed: false,
    reason: /spec\.ingress\.template: .*\(invalid port "web"\)/,
    object: deployment((d) => (d.spec.ingress = { template: '{{name}}.example.com:web' })),
  },
  // 4: memory in flinkConfiguration counts only if Flink can derive a process from it (metaspace 256m + overhead
  // at least 192m do not fit in 100m; a JobManager's Flink memory must exceed its 128m off-heap).
  {
    row: '4',
    what: 'taskmanager.memory.process.size 100m instead of a memory resource',
    allowed: false,
    reason: /spec\.flinkConfiguration: Flink cannot size the TaskManager process/,
    object: withConf(
      deployment((d) => delete d.spec.taskManager.resource.memory),
      { 'taskmanager.memory.process.size': '100m' },
    ),
  },
  {
    row: '4',
    what: 'jobmanager.memory.flink.size 100m instead of a memory resource',
    allowed: false,
    reason: /spec\.flinkConfiguration: Flink cannot size the JobManager process/,
    object: withConf(
      deployment((d) => delete d.spec.jobManager.resource.memory),
      { 'jobmanager.memory.flink.size': '100m' },
    ),
  },
  {
    row: '4',
    what: 'taskmanager.memory.process.size 1g instead of a memory resource (positive control)',
    allowed: true,
    object: withConf(
      deployment((d) => delete d.spec.taskManager.resource.memory),
      { 'taskmanager.memory.process.size': '1g' },
    ),
  },
  {
    row: '4',
    what: 'jobmanager.memory.heap.size 1g instead of a memory resource (positive control)',
    allowed: true,
    object: withConf(
      deployment((d) => delete d.spec.jobManager.resource.memory),
      { 'jobmanager.memory.heap.size': '1g' },
    ),
  },
  // 3: memory Flink's MemorySize cannot hold.
  {
    row: '3',
    what: 'negative JobManager memory',
    allowed: false,
    reason: /spec\.jobManager\.resource\.memory: JobManager memory "-1g" must be between 0 and 2\^63-1 bytes/,
    object: deployment((d) => (d.spec.jobManager.resource.memory = '-1g')),
  },
  {
    row: '3',
    what: 'TaskManager memory past 2^63-1 bytes',
    allowed: false,
    reason: /spec\.taskManager\.resource\.memory: .* must be between 0 and 2\^63-1 bytes/,
    object: deployment((d) => (d.spec.taskManager.resource.memory = '9000000000000000000000')),
  },
  {
    row: '3',
    what: 'memory of 1 TiB (positive control)',
    allowed: true,
    object: deployment((d) => (d.spec.taskManager.resource.memory = '1t')),
  },
  // 5: high-availability.type: standalone is NONE to Flink.
  {
    row: '5',
    what: 'rollback with HA "standalone"',
    allowed: false,
    reason: /HA must be enabled for rollback support/,
    object: withConf(validDeployment(), {
      'kubernetes.operator.deployment.rollback.enabled': 'true',
      'high-availability.type': 'standalone',
      'high-availability.storageDir': 'file:///ha',
    }),
  },
  {
    row: '5',
    what: 'rollback with HA "kubernetes" (positive control)',
    allowed: true,
    object: withConf(validDeployment(), {
      'kubernetes.operator.deployment.rollback.enabled': 'true',
      'high-availability.type': 'kubernetes',
      'high-availability.storageDir': 'file:///ha',
    }),
  },
  // 6: Flink's key fallbacks.
  {
    row: '6',
    what: 'rollback with HA named by the oldest key recovery.mode',
    allowed: true,
    object: withConf(validDeployment(), {
      'kubernetes.operator.deployment.rollback.enabled': 'true',
      'recovery.mode': 'zookeeper',
      'high-availability.storageDir': 'file:///ha',
    }),
  },
  {
    row: '6',
    what: 'a blank high-availability.type hides an older high-availability: kubernetes',
    allowed: false,
    reason: /HA must be enabled for rollback support/,
    object: withConf(validDeployment(), {
      'kubernetes.operator.deployment.rollback.enabled': 'true',
      'high-availability.type': '',
      'high-availability': 'kubernetes',
    }),
  },
  {
    row: '6',
    what: 'the health check with recovery off under its deprecated name',
    allowed: false,
    reason: /kubernetes\.operator\.jm-deployment-recovery\.enabled"\]: must be true/,
    object: withConf(validDeployment(), {
      'kubernetes.operator.cluster.health-check.enabled': 'true',
      'kubernetes.operator.reconciler.jm-deployment-recovery.enabled': 'false',
    }),
  },
  // 7: on a session-job update upstream checks only deploymentName.
  (() => {
    const old = validSessionJob();
    old.status = deployedStatus(old.spec);
    const changed = structuredClone(old);
    changed.spec.job.savepointRedeployNonce = 7;
    return {
      row: '7',
      what: 'a session job update that sets savepointRedeployNonce',
      allowed: true,
      object: changed,
      oldObject: old,
    };
  })(),
  // Issue 27: a blank execution.checkpointing.dir present hides the deprecated state.checkpoints.dir, as Flink's
  // Configuration#getString(CHECKPOINTS_DIRECTORY) reads it: the first key present wins, and blank is no directory.
  {
    row: '27',
    what: 'last-state with a blank execution.checkpointing.dir beside state.checkpoints.dir',
    allowed: false,
    reason:
      /spec\.flinkConfiguration\["execution\.checkpointing\.dir"\]: a checkpoint directory is required for upgradeMode last-state .*it is blank, which hides state\.checkpoints\.dir/,
    object: withConf(
      deployment((d) => (d.spec.job.upgradeMode = 'last-state')),
      { 'execution.checkpointing.dir': ' ', 'state.checkpoints.dir': 'file:///cp' },
    ),
  },
  {
    row: '27',
    what: 'last-state with only the deprecated state.checkpoints.dir (positive control)',
    allowed: true,
    object: withConf(
      deployment((d) => (d.spec.job.upgradeMode = 'last-state')),
      { 'state.checkpoints.dir': 'file:///cp' },
    ),
  },
  {
    row: '27',
    what: 'savepoint with a blank execution.checkpointing.savepoint-dir beside state.savepoints.dir',
    allowed: false,
    reason:
      /spec\.flinkConfiguration\["execution\.checkpointing\.savepoint-dir"\]: a savepoint directory is required for upgradeMode savepoint; it is blank, which hides state\.savepoints\.dir/,
    object: withConf(
      deployment((d) => (d.spec.job.upgradeMode = 'savepoint')),
      {
        'execution.checkpointing.dir': 'file:///cp',
        'execution.checkpointing.savepoint-dir': '',
        'state.savepoints.dir': 'file:///sp',
      },
    ),
  },
  // Issue 27, on purpose stricter than upstream: a parallelism below 1 never runs, whatever the session.
  {
    row: '27',
    what: 'a session job with parallelism 0 whose session could not be looked up',
    allowed: false,
    reason: /spec\.job\.parallelism: must be ≥ 1 \(got 0\)/,
    object: sessionJob((j) => (j.spec.job.parallelism = 0)),
  },
  // 8: any ephemeral storage given is parsed.
  {
    row: '8',
    what: 'ephemeralStorage ""',
    allowed: false,
    reason: /spec\.jobManager\.resource\.ephemeralStorage: "" is not a Kubernetes quantity/,
    object: deployment((d) => (d.spec.jobManager.resource.ephemeralStorage = '')),
  },
];

describe('admission held to upstream (issue 17): the disagreements, through the HTTPS webhook', function () {
  this.timeout(30_000);
  let webhook: WebhookProcess;
  before(async () => (webhook = await startWebhook()));
  after(async () => webhook.stop());

  for (const r of rows) {
    it(`row ${r.row}: ${r.what} → ${r.allowed ? 'admitted' : 'rejected'}`, async () => {
      const review = admissionReview(
        r.object as never,
        r.oldObject ? { operation: 'UPDATE', oldObject: r.oldObject } : {},
      );
      const response = (await webhook.post('/validate', review)).json<{ response: Response }>().response;
      expect(response.allowed, response.status?.message).to.equal(r.allowed);
      if (r.reason) expect(response.status?.message).to.match(r.reason);
    });
  }

  it('row 1, positive control: the operator configuration may allow http', async () => {
    const own = await startWebhook([], { config: 'kubernetes.operator.user.artifacts.allowed-schemes: https,http\n' });
    try {
      const job = sessionJob((j) => (j.spec.job.jarURI = 'http://8.8.8.8/job.jar'));
      const response = (await own.post('/validate', admissionReview(job as never))).json<{ response: Response }>()
        .response;
      expect(response.status?.message ?? '').to.not.match(/scheme/);
    } finally {
      await own.stop();
    }
  });
});

describe('admission held to upstream (issue 17 row 2): a slow name lookup never admits a restricted host', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'fidelity-'));
  writeCertificates(dir);
  let server: WebhookServer;
  let lookup: Lookup = async () => [];

  before(async () => {
    server = await startWebhookServer({
      port: 0,
      host: '127.0.0.1',
      certificates: certificateFiles(join(dir, 'tls.crt'), join(dir, 'tls.key'), () => undefined),
      operatorConfig: {},
      logger: pino({ level: 'silent' }),
      dnsTimeoutMs: 300,
      lookup: (host) => lookup(host),
    });
  });
  after(() => server.close());

  const validate = (jarURI: string) =>
    new Promise<Response>((resolve, reject) => {
      const body = JSON.stringify(admissionReview(sessionJob((j) => (j.spec.job.jarURI = jarURI)) as never));
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/validate',
          method: 'POST',
          ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
          servername: 'localhost',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve((JSON.parse(Buffer.concat(chunks).toString()) as { response: Response }).response),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('a burst of 30 lookups that answer "127.0.0.1" only after 2 s: every one refused, none admitted with a warning', async () => {
    lookup = (host) =>
      new Promise((r) =>
        setTimeout(() => r(host === 'localhost' ? [{ address: '127.0.0.1' }] : [{ address: '8.8.8.8' }]), 2000),
      );
    const answers = await Promise.all(Array.from({ length: 30 }, () => validate('https://localhost/job.jar')));
    for (const answer of answers) {
      expect(answer.allowed).to.equal(false);
      expect(answer.status?.message).to.match(
        /host "localhost" could not be checked against the restricted addresses \(no answer from name resolution within 300 ms\); try again/,
      );
    }
  });

  it('positive controls: a prompt answer decides, a name that does not exist is admitted with a warning, an address literal needs no lookup', async () => {
    lookup = async (host) => (host === 'localhost' ? [{ address: '127.0.0.1' }] : [{ address: '8.8.8.8' }]);
    expect((await validate('https://localhost/job.jar')).status?.message).to.match(
      /resolves to a restricted address \(127\.0\.0\.1\)/,
    );
    expect((await validate('https://jars.example.org/job.jar')).status?.message ?? '').to.not.match(/jarURI/);
    lookup = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    const missing = await validate('https://nowhere.invalid/job.jar');
    expect(missing.warnings?.join('\n')).to.match(/host "nowhere\.invalid" does not resolve from the webhook/);
    lookup = () => new Promise(() => undefined); // never answers: literals must not wait for it
    expect((await validate('https://127.0.0.1/job.jar')).status?.message).to.match(/resolves to a restricted address/);
  });
});
