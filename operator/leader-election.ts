// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: a candidate takes the
// lease once its holder has not renewed it for leaseDuration (timed by this process's own clock from when it last
// saw the record change, never by comparing clocks), and the leader renews every retryPeriod. A leader that cannot
// renew within renewDeadline stops leading — the caller exits — so two leaders never act at once.
import { isConflict, isNotFound, objectPath, type KubeClient, type KubeObject } from '../kube/client.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: (msg: string) => void;
}

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

export class LeaderElector {
  private observed: { record: string; at: number } | undefined;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {}

  /** Resolves once this process leads; then calls `onLost` (once) if it stops leading. */
  async acquire(onLost: () => void): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    while (!this.stopped && !(await this.tryAcquireOrRenew())) await sleep(retryPeriodMs);
    this.options.log(`became leader as ${this.options.identity}`);
    void (async () => {
      let lastRenew = Date.now();
      while (!this.stopped) {
        await sleep(retryPeriodMs);
        if (this.stopped) return;
        if (await this.tryAcquireOrRenew()) lastRenew = Date.now();
        else if (Date.now() - lastRenew > renewDeadlineMs) {
          this.options.log('lost the lease: could not renew it within the renew deadline');
          onLost();
          return;
        }
      }
    })();
  }

  /** Gives the lease up so a successor need not wait out its duration. */
  async release(): Promise<void> {
    this.stopped = true;
    const lease = await this.get().catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.options.identity) return;
    await this.options.client
      .replace(this.path(), { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) } })
      .catch(() => undefined);
  }

  private path(name?: string): string {
    return objectPath('coordination.k8s.io/v1', 'leases', this.options.namespace, name);
  }

  private get(): Promise<Lease> {
    return this.options.client.get<Lease>(this.path(this.options.name));
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, leaseDurationMs, name, namespace } = this.options;
    const now = Date.now();
    const spec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
    let lease: Lease;
    try {
      lease = await this.get();
    } catch (err) {
      if (!isNotFound(err)) return false;
      try {
        await client.create(this.path(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec });
        return true;
      } catch {
        return false;
      }
    }
    const record = JSON.stringify(lease.spec ?? {});
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const holder = lease.spec?.holderIdentity;
    const held = holder !== undefined && holder !== '' && holder !== identity;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (held && this.observed.at + durationMs > now) return false;
    const renewing = holder === identity;
    try {
      await client.replace(this.path(name), {
        ...lease,
        spec: {
          ...spec,
          acquireTime: renewing ? (lease.spec?.acquireTime ?? spec.acquireTime) : spec.acquireTime,
          leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (renewing ? 0 : 1),
        },
      });
      return true;
    } catch (err) {
      if (!isConflict(err)) this.options.log(`lease update failed: ${(err as Error).message}`);
      return false;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
