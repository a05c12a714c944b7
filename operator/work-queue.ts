// A keyed work queue with client-go's semantics: a key waits in the queue at most once, is processed by one worker
// at a time (a key added while it is processed runs again right after), can be added after a delay (the earliest
// wins), and backs off exponentially per key on failure, capped, so one broken resource never hot-loops.
export interface WorkQueueOptions {
  workers: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told of every add that queues a key (client-go's `adds`) and every retry after a failure (`retries`). */
  onAdd?: () => void;
  onRetry?: () => void;
}

/** What processing a key says next: look again after this long, or wait for the next change. */
export type Outcome = { requeueAfterMs: number | undefined };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  /** Keys in a worker's hands, with when each was taken. */
  private readonly processing = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: (() => void)[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly process: (key: string) => Promise<Outcome>,
    private readonly options: WorkQueueOptions,
    private readonly onError: (key: string, err: unknown, retryInMs: number) => void,
  ) {}

  add(key: string): void {
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.options.onAdd?.();
    this.waiters.shift()?.();
  }

  addAfter(key: string, delayMs: number): void {
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Keys waiting for a worker (for metrics and tests). */
  get depth(): number {
    return this.queue.length;
  }

  /** How long the keys in workers' hands have been there, in ms (client-go's unfinished and longest-running work). */
  inProgressMs(now = Date.now()): number[] {
    return [...this.processing.values()].map((since) => now - since);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.options.workers }, () => this.worker());
  }

  /** Stops taking keys and waits for the ones in progress. */
  async stop(): Promise<void> {
    this.running = false;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.waiters.splice(0)) wake();
    await Promise.all(this.loops);
  }

  private backoffMs(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const base = this.options.baseBackoffMs ?? 1000;
    return Math.min(base * 2 ** (failures - 1), this.options.maxBackoffMs ?? 300_000);
  }

  private async worker(): Promise<void> {
    while (this.running) {
      const key = this.queue.shift();
      if (key === undefined) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      this.queued.delete(key);
      this.processing.set(key, Date.now());
      try {
        const { requeueAfterMs } = await this.process(key);
        this.failures.delete(key);
        if (requeueAfterMs !== undefined) this.addAfter(key, requeueAfterMs);
      } catch (err) {
        const retryInMs = this.backoffMs(key);
        this.options.onRetry?.();
        this.onError(key, err, retryInMs);
        this.addAfter(key, retryInMs);
      } finally {
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    }
  }
}
