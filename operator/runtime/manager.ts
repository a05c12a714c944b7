// The frame every controller runs in, like controller-runtime's manager: one Kubernetes client whose failures to
// authenticate are reported (an error line naming the status code, and /readyz), leader election gating all work,
// health and metrics on one port, and a graceful stop. Controllers are added, never wired by hand.
import type { KubeConfig } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { isAuthRefusal, KubeClient, type Fence, type KubeApiError } from '../../kube/client.js';
import { statusOf } from '../../kube/informer.js';
import { LeaderElector, type Leadership } from '../leader-election.js';
import { ControllerMetrics, runController, type ControllerDefinition, type RunningController } from './controller.js';

export interface ManagerOptions {
  kc: KubeConfig;
  identity: string;
  log: Logger;
  namespaces: string[];
  workers: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Leader election; without it this process acts from the start. */
  election?: {
    namespace: string;
    name: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  health: { port: number; host: string };
}

/** A 401 or 403 from the API server, kept until a minute has passed without another. */
interface AuthProblem {
  status: number;
  message: string;
  at: number;
}

const AUTH_PROBLEM_MEMORY_MS = 60_000;

export class Manager {
  readonly client: KubeClient;
  readonly registry = new Registry();
  private readonly metrics: ControllerMetrics;
  private readonly leading: Gauge;
  private readonly controllers: ControllerDefinition[] = [];
  private running: RunningController[] | undefined;
  private readonly elector: LeaderElector | undefined;
  private authProblem: AuthProblem | undefined;
  private health: Server | undefined;
  private stopping = false;

  constructor(private readonly options: ManagerOptions) {
    collectDefaultMetrics({ register: this.registry, prefix: 'flink_operator_' });
    this.metrics = new ControllerMetrics(this.registry);
    this.leading = new Gauge({
      name: 'flink_operator_is_leader',
      help: '1 while this process leads',
      registers: [this.registry],
    });
    const clientOptions = { onAuthFailure: (err: KubeApiError) => this.authFailed(err.status, err.message) };
    this.client = KubeClient.fromKubeConfig(options.kc, `flink-operator-ts/${options.identity}`, clientOptions);
    const { election } = options;
    this.elector = election
      ? // A connection of its own: a renewal must never queue behind the reconcilers' requests (at 5,000 resources they
        // filled the shared pool, a renewal missed its deadline, and the operator gave up leading).
        new LeaderElector({
          client: KubeClient.fromKubeConfig(
            options.kc,
            `flink-operator-ts/${options.identity}/leader-election`,
            clientOptions,
          ),
          identity: options.identity,
          ...election,
          log: (level, msg) => options.log[level]({ identity: options.identity }, msg),
        })
      : undefined;
  }

  add(controller: ControllerDefinition): this {
    this.controllers.push(controller);
    return this;
  }

  /** Serves health and metrics, then campaigns: leads until the term ends, stops all work, stands again. */
  async start(): Promise<void> {
    this.health = await this.serveHealth();
    process.once('SIGTERM', () => void this.stop('SIGTERM'));
    process.once('SIGINT', () => void this.stop('SIGINT'));
    while (!this.stopping) {
      let term: Fence;
      if (this.elector) {
        this.options.log.info({ identity: this.options.identity }, 'waiting for leadership');
        const won: Leadership | undefined = await this.elector.acquire();
        if (!won || this.stopping) return;
        term = won;
      } else {
        term = { signal: new AbortController().signal, check: () => undefined };
      }
      this.lead(term);
      if (!this.elector) return;
      await new Promise((resolve) => term.signal.addEventListener('abort', resolve, { once: true }));
      if (this.stopping) return;
      this.options.log.warn(
        { identity: this.options.identity },
        'leadership lost: stopping all work before standing again',
      );
      await this.endTerm();
    }
  }

  private lead(term: Fence): void {
    this.leading.set(1);
    const { namespaces, workers, baseBackoffMs, maxBackoffMs, log } = this.options;
    const client = this.client.fenced(term);
    const settings = {
      watchClient: this.client,
      namespaces,
      workers,
      baseBackoffMs,
      maxBackoffMs,
      log,
      metrics: this.metrics,
      onWatchError: this.watchFailed,
    };
    this.running = this.controllers.map((c) => runController(c, settings, term, client));
    log.info(
      {
        namespaces: namespaces.length > 0 ? namespaces : 'all',
        identity: this.options.identity,
        controllers: this.controllers.map((c) => c.name),
      },
      'watching and reconciling',
    );
  }

  private async endTerm(): Promise<void> {
    this.leading.set(0);
    const running = this.running ?? [];
    this.running = undefined;
    await Promise.all(running.map((c) => c.stop()));
  }

  private readonly watchFailed = (controller: string, watch: string, err: unknown, retryInMs: number): void => {
    const status = statusOf(err);
    const message = ((err as Error | undefined)?.message ?? String(err)).split('\n')[0]!;
    if (isAuthRefusal(status, message)) this.authFailed(status!, `${watch} watch: ${message}`);
    this.options.log.warn(
      { controller, watch, reason: `${status ?? ''} ${message}`.trim(), retryInMs },
      'watch failed; restarting',
    );
  };

  /** One error line per kind of refusal (not one per retry), and /readyz says so while it lasts. */
  private authFailed(status: number, message: string): void {
    const previous = this.authProblem;
    this.authProblem = { status, message, at: Date.now() };
    if (previous?.status === status && Date.now() - previous.at < AUTH_PROBLEM_MEMORY_MS) return;
    const meaning =
      status === 401
        ? 'the API server does not accept these credentials'
        : 'these credentials lack a permission this operator needs';
    this.options.log.error(
      { status, reason: message.split('\n')[0] },
      `${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}: ${meaning}`,
    );
  }

  /** Why this process is not ready, or undefined when it is. */
  notReadyReason(): string | undefined {
    const problem = this.authProblem;
    if (problem && Date.now() - problem.at < AUTH_PROBLEM_MEMORY_MS)
      return `the API server answered ${problem.status}: ${problem.message.split('\n')[0]}`;
    if (!this.running) return 'not leading';
    if (!this.running.every((c) => c.synced())) return 'caches not in sync yet';
    return undefined;
  }

  private serveHealth(): Promise<Server> {
    const server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/healthz') return void res.writeHead(200).end('ok');
      if (url === '/readyz') {
        const reason = this.notReadyReason();
        return void res.writeHead(reason ? 503 : 200).end(reason ?? 'ok');
      }
      if (url === '/metrics') {
        void this.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text));
        return;
      }
      res.writeHead(404).end();
    });
    const { port, host } = this.options.health;
    return new Promise((resolve) =>
      server.listen(port, host, () => {
        const address = server.address();
        this.options.log.info(
          { port: typeof address === 'object' && address ? address.port : port },
          'health and metrics listening',
        );
        resolve(server);
      }),
    );
  }

  private async stop(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { log } = this.options;
    log.info({ signal }, 'shutting down: finishing reconciles in progress');
    const force = setTimeout(() => process.exit(0), 25_000);
    force.unref();
    await this.endTerm();
    await this.elector?.release();
    this.health?.close();
    this.client.close();
    log.info('stopped');
    process.exit(0);
  }
}
