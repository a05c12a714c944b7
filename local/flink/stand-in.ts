// A Flink REST stand-in for scale benchmarks only (SPEC §9): a thousand JobManager pods cannot each get a real Flink
// JVM on one machine, so each gets an in-memory cluster behind one HTTP server, at `<base>/<namespace>/<app>`,
// published in the same REST-address file the real runner writes. It answers the calls the operator makes with
// Flink's own JSON shapes, and test/flink/rest-contract.test.ts holds it to the same contract as real Flink.
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { isRunnable, publishRestAddresses, readPodFlinkConfig } from './runner.js';

type JobState = 'INITIALIZING' | 'RUNNING' | 'FINISHED' | 'CANCELED';

interface Job {
  jid: string;
  name: string;
  parallelism: number;
  createdAt: number;
  /** Set once the job stopped. */
  ended?: { state: 'FINISHED' | 'CANCELED'; at: number };
  restoredFrom?: string;
  savepoints: Map<string, string>;
}

interface Cluster {
  jobs: Map<string, Job>;
}

export interface StandInOptions {
  /** Where savepoints are written (a `_metadata` file each, as Flink leaves them). */
  filesRoot: string;
  flinkVersion: string;
  /** How long a job initializes before it runs, as a real one would take. */
  jobStartMs?: number;
}

export class FlinkRestStandIn {
  private readonly clusters = new Map<string, Cluster>();
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: StandInOptions) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections(); // keep-alive clients would otherwise hold it open
    await closed;
  }

  /** A cluster configured as the operator configures one (the flat flink-config lines); its REST base URL. */
  register(key: string, config: Readonly<Record<string, string>>): string {
    const cluster: Cluster = { jobs: new Map() };
    const jid = config['$internal.pipeline.job-id'];
    if (config['pipeline.jars'] || config['pipeline.classpaths']) {
      const id = jid ?? randomBytes(16).toString('hex');
      cluster.jobs.set(id, {
        jid: id,
        name: config['pipeline.name'] ?? 'CountingJob',
        parallelism: Number(config['parallelism.default'] ?? 1) || 1,
        createdAt: Date.now(),
        savepoints: new Map(),
        ...(restorePath(config) ? { restoredFrom: restorePath(config) } : {}),
      });
    }
    this.clusters.set(key, cluster);
    return this.url(key);
  }

  unregister(key: string): void {
    this.clusters.delete(key);
  }

  url(key: string): string {
    return `http://127.0.0.1:${this.port}/${key}`;
  }

  keys(): string[] {
    return [...this.clusters.keys()];
  }

  has(key: string): boolean {
    return this.clusters.has(key);
  }

  private state(job: Job): JobState {
    if (job.ended) return job.ended.state;
    return Date.now() - job.createdAt < (this.options.jobStartMs ?? 1000) ? 'INITIALIZING' : 'RUNNING';
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const [namespace, app, ...rest] = url.pathname.split('/').filter(Boolean);
    const cluster = this.clusters.get(`${namespace}/${app}`);
    const path = `/${rest.join('/')}`;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
    };
    const notFound = () => send(404, { errors: [`Not found: ${path}`] });
    // A cluster that is gone does not answer, like a JobManager that is not there.
    if (!cluster) return void req.socket.destroy();
    req.resume();
    req.on('end', () => {
      const method = req.method ?? 'GET';
      if (method === 'GET' && path === '/config') {
        return send(200, {
          'refresh-interval': 3000,
          'timezone-name': 'Coordinated Universal Time',
          'timezone-offset': 0,
          'flink-version': this.options.flinkVersion,
          'flink-revision': 'stand-in',
          features: { 'web-submit': true, 'web-cancel': false, 'web-rescale': false, 'web-history': false },
        });
      }
      if (method === 'GET' && path === '/jobs/overview')
        return send(200, { jobs: [...cluster.jobs.values()].map((j) => this.overview(j)) });
      const match = /^\/jobs\/([0-9a-f]{32})(\/.*)?$/.exec(path);
      const job = match ? cluster.jobs.get(match[1]!) : undefined;
      if (!match || !job) return notFound();
      const sub = match[2] ?? '';
      if (method === 'GET' && sub === '')
        return send(200, {
          ...this.overview(job),
          vertices: [{ id: 'v0', name: 'Source', parallelism: job.parallelism, status: this.state(job) }],
        });
      if (method === 'PATCH' && sub === '' && url.searchParams.get('mode') === 'cancel') {
        if (job.ended) return send(409, { errors: ['Job already terminal'] });
        job.ended = { state: 'CANCELED', at: Date.now() };
        return send(202, {});
      }
      if (method === 'POST' && sub === '/stop') {
        if (this.state(job) !== 'RUNNING') return send(409, { errors: ['Job is not running'] });
        const trigger = randomBytes(16).toString('hex');
        const location = join(
          this.options.filesRoot,
          'savepoints',
          `savepoint-${job.jid.slice(0, 6)}-${randomBytes(6).toString('hex')}`,
        );
        mkdirSync(location, { recursive: true });
        writeFileSync(join(location, '_metadata'), `stand-in savepoint of ${job.jid}\n`);
        job.savepoints.set(trigger, `file:${location}`);
        job.ended = { state: 'FINISHED', at: Date.now() };
        return send(202, { 'request-id': trigger });
      }
      const savepoint = /^\/savepoints\/([0-9a-f]{32})$/.exec(sub);
      if (method === 'GET' && savepoint) {
        const location = job.savepoints.get(savepoint[1]!);
        return location ? send(200, { status: { id: 'COMPLETED' }, operation: { location } }) : notFound();
      }
      if (method === 'GET' && sub === '/checkpoints') {
        const restored = job.restoredFrom
          ? { id: 1, restore_timestamp: job.createdAt, is_savepoint: true, external_path: job.restoredFrom }
          : null;
        return send(200, {
          counts: { restored: restored ? 1 : 0, total: 0, in_progress: 0, completed: 0, failed: 0 },
          latest: { completed: null, savepoint: null, failed: null, restored },
          history: [],
        });
      }
      if (method === 'GET' && sub === '/exceptions')
        return send(200, { exceptionHistory: { entries: [], truncated: false } });
      if (method === 'GET' && sub === '/execution-result')
        return send(200, { status: { id: job.ended ? 'COMPLETED' : 'IN_PROGRESS' } });
      return notFound();
    });
  }

  private overview(job: Job) {
    const now = Date.now();
    return {
      jid: job.jid,
      name: job.name,
      state: this.state(job),
      'start-time': job.createdAt,
      'end-time': job.ended?.at ?? -1,
      duration: (job.ended?.at ?? now) - job.createdAt,
      'last-modification': job.ended?.at ?? job.createdAt,
      tasks: { total: 1, running: this.state(job) === 'RUNNING' ? 1 : 0, finished: job.ended ? 1 : 0 },
    };
  }
}

/**
 * The kubelet side for the stand-in: every scheduled JobManager pod gets a cluster configured from its
 * flink-config ConfigMap, every pod gone loses it, and the REST-address file follows (as local/flink/runner.ts).
 */
export async function standInForPods(
  kc: KubeConfig,
  api: CoreV1Api,
  standIn: FlinkRestStandIn,
  overridesFile: string,
): Promise<() => Promise<void>> {
  const { makeInformer } = await import('@kubernetes/client-node');
  const informer = makeInformer(
    kc,
    '/api/v1/pods',
    () => api.listPodForAllNamespaces({ labelSelector: 'component=jobmanager' }),
    'component=jobmanager',
  );
  const pending = new Set<string>();
  let writeTimer: NodeJS.Timeout | undefined;
  const publish = () => {
    writeTimer ??= setTimeout(() => {
      writeTimer = undefined;
      publishRestAddresses(overridesFile, Object.fromEntries(standIn.keys().map((k) => [k, standIn.url(k)])));
    }, 100);
  };
  const key = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.labels?.app}`;
  const sync = async (pod: V1Pod): Promise<void> => {
    const k = key(pod);
    if (!isRunnable(pod)) {
      if (standIn.has(k)) {
        standIn.unregister(k);
        publish();
      }
      return;
    }
    if (standIn.has(k) || pending.has(k)) return;
    pending.add(k);
    try {
      standIn.register(k, (await readPodFlinkConfig(api, pod)).config);
      publish();
    } catch {
      setTimeout(() => void sync(pod), 500); // the ConfigMap comes just after the Deployment
    } finally {
      pending.delete(k);
    }
  };
  informer.on('add', (pod) => void sync(pod));
  informer.on('update', (pod) => void sync(pod));
  informer.on('delete', (pod) => {
    standIn.unregister(key(pod));
    publish();
  });
  informer.on('error', () => setTimeout(() => void informer.start(), 1000));
  await informer.start();
  return async () => {
    await informer.stop();
    if (writeTimer) clearTimeout(writeTimer);
  };
}

/** The state a cluster restores from, under the key of either dialect (`execution.state-recovery.path` from 1.20). */
function restorePath(config: Record<string, string>): string | undefined {
  return config['execution.state-recovery.path'] ?? config['execution.savepoint.path'];
}
