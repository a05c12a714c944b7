// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: a candidate takes the
// lease once its holder has not renewed it for leaseDuration (timed by this process's own clock from when it last
// saw the record change, never by comparing clocks), and the leader renews every retryPeriod, each round bounded by
// the renew deadline.
//
// Leading is a Fence: valid until renewDeadline after the start of the last successful renewal (a standby can take
// over only leaseDuration after it saw that renewal, and renewDeadline < leaseDuration). Every write of the leader's
// work checks it first, so a leader that was stalled (a paused process, a long GC, a partition) writes nothing once
// it wakes past its term, and its abort signal stops the work in flight.
import { setMaxListeners } from 'node:events';
import { isConflict, isNotFound, objectPath, type Fence, type KubeClient, type KubeObject } from '../kube/client.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: (level: 'info' | 'warn', msg: string) => void;
}

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export class LeadershipLost extends Error {
  constructor() {
    super('leadership lost: this operator no longer holds the lease');
  }
}

/** One term of leadership: valid until `validUntil` unless renewed; then aborted, for good. */
export class Leadership implements Fence {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private validUntil: number) {
    // Every request of the term listens for its end: hundreds at once at scale, none of them a leak.
    setMaxListeners(0, this.controller.signal);
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Throws (and aborts) once the term is over, even when no timer could run yet (a process resumed from a pause). */
  check(): void {
    if (this.expired()) throw new LeadershipLost();
  }

  /** Ends the term once its time is up; true when it is over. */
  expired(): boolean {
    if (!this.controller.signal.aborted && Date.now() >= this.validUntil) this.end();
    return this.controller.signal.aborted;
  }

  extend(until: number): void {
    if (this.controller.signal.aborted) return;
    this.validUntil = until;
    this.arm();
  }

  end(): void {
    clearTimeout(this.timer);
    if (!this.controller.signal.aborted) this.controller.abort(new LeadershipLost());
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.end(), Math.max(0, this.validUntil - Date.now()));
    this.timer.unref();
  }
}

const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LeaderElector {
  private observed: { record: string; at: number } | undefined;
  private stopped = false;
  /** The last problem logged, so that a lasting one is one line, not one every retry period. */
  private problem: string | undefined;

  constructor(private readonly options: LeaderElectionOptions) {}

  /** Resolves with a term once this process leads; the term ends (its signal aborts) when a renewal fails to land in time. */
  async acquire(): Promise<Leadership | undefined> {
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    let started = Date.now();
    while (!this.stopped && !(await this.tryAcquireOrRenew())) {
      await sleep(retryPeriodMs);
      started = Date.now();
    }
    if (this.stopped) return undefined;
    const term = new Leadership(started + renewDeadlineMs);
    this.options.log('info', `became leader as ${this.options.identity}`);
    void this.renew(term);
    return term;
  }

  private async renew(term: Leadership): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    while (!this.stopped && !term.signal.aborted) {
      await sleep(retryPeriodMs);
      if (this.stopped || term.signal.aborted) return;
      const started = Date.now();
      if (await this.tryAcquireOrRenew()) term.extend(started + renewDeadlineMs);
      else if (term.expired()) break;
    }
    if (!this.stopped) this.options.log('warn', 'lost the lease: could not renew it within the renew deadline');
  }

  /** Gives the lease up so a successor need not wait out its duration. */
  async release(): Promise<void> {
    this.stopped = true;
    const client = this.bounded();
    const lease = await client.get<Lease>(this.path(this.options.name)).catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.options.identity) return;
    await client
      .replace(this.path(this.options.name), {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) },
      })
      .catch(() => undefined);
  }

  private path(name?: string): string {
    return objectPath('coordination.k8s.io/v1', 'leases', this.options.namespace, name);
  }

  /** The client for one round: its calls together end within the renew deadline. */
  private bounded(): KubeClient {
    const signal = AbortSignal.timeout(this.options.renewDeadlineMs);
    return this.options.client.fenced({
      signal,
      check: () => {
        if (signal.aborted)
          throw new Error(`lease ${this.options.namespace}/${this.options.name}: no answer within the renew deadline`);
      },
    });
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, leaseDurationMs, name, namespace } = this.options;
    const client = this.bounded();
    const now = Date.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      let lease: Lease;
      try {
        lease = await client.get<Lease>(this.path(name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await client.create(this.path(), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec,
        });
        this.problem = undefined;
        return true;
      }
      const record = JSON.stringify(lease.spec ?? {});
      if (this.observed?.record !== record) this.observed = { record, at: now };
      const holder = lease.spec?.holderIdentity;
      const held = holder !== undefined && holder !== '' && holder !== identity;
      const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (held && this.observed.at + durationMs > now) return false;
      const renewing = holder === identity;
      await client.replace(this.path(name), {
        ...lease,
        spec: {
          ...spec,
          acquireTime: renewing ? (lease.spec?.acquireTime ?? spec.acquireTime) : spec.acquireTime,
          leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (renewing ? 0 : 1),
        },
      });
      this.problem = undefined;
      return true;
    } catch (err) {
      // A conflict is someone else winning the race; anything else is worth a line (401/403 also reach /readyz).
      const problem = `lease ${namespace}/${name}: ${(err as Error).message}`;
      if (!isConflict(err) && problem !== this.problem) this.options.log('warn', problem);
      this.problem = problem;
      return false;
    }
  }
}
