// A keyed work queue with client-go's semantics: a key waits in the queue at most once, is processed by one worker
// at a time (a key added while it is processed runs again right after), can be added after a delay (the earliest
// wins), and backs off exponentially per key on failure, capped, so one broken resource never hot-loops.
// Two lanes, as controller-runtime's priority queue: a change (add) goes ahead of the timed looks (addAfter, retries).
// With thousands of idle resources each looked at again every interval, the one a user just changed must not wait
// behind all of them.
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

type Lane = 'change' | 'timed';

/** A FIFO that takes from its head without moving the rest (Array#shift copies the whole queue each time). */
class Fifo {
  private items: string[] = [];
  private head = 0;

  push(key: string): void {
    this.items.push(key);
  }

  shift(): string | undefined {
    if (this.head === this.items.length) return undefined;
    const key = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return key;
  }
}

export class WorkQueue {
  private readonly lanes: Record<Lane, Fifo> = { change: new Fifo(), timed: new Fifo() };
  /** Each waiting key and the lane it waits in; a key promoted to the change lane is skipped when met in the other. */
  private readonly queued = new Map<string, Lane>();
  /** Keys in a worker's hands, with when each was taken. */
  private readonly processing = new Map<string, number>();
  /** Keys added while in a worker's hands, and the lane they go back to. */
  private readonly dirty = new Map<string, Lane>();
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

  /** Queues a key because something about it changed: ahead of every timed look. */
  add(key: string): void {
    this.enqueue(key, 'change');
  }

  private enqueue(key: string, lane: Lane): void {
    if (this.processing.has(key)) {
      if (this.dirty.get(key) !== 'change') this.dirty.set(key, lane);
      return;
    }
    const waiting = this.queued.get(key);
    if (waiting === 'change' || waiting === lane) return;
    this.queued.set(key, lane);
    this.lanes[lane].push(key);
    if (waiting !== undefined) return; // promoted: already counted and already woke a worker
    this.options.onAdd?.();
    this.waiters.shift()?.();
  }

  /** The next key for a worker: changes first; a key promoted out of the timed lane is met there once more, and skipped. */
  private take(): string | undefined {
    for (const lane of ['change', 'timed'] as const) {
      for (let key = this.lanes[lane].shift(); key !== undefined; key = this.lanes[lane].shift()) {
        if (this.queued.get(key) !== lane) continue;
        this.queued.delete(key);
        return key;
      }
    }
    return undefined;
  }

  /** Queues a key for another look after a delay, behind the changes waiting then. */
  addAfter(key: string, delayMs: number): void {
    if (delayMs <= 0) return this.enqueue(key, 'timed');
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key, 'timed');
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Keys waiting for a worker (for metrics and tests). */
  get depth(): number {
    return this.queued.size;
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
      const key = this.take();
      if (key === undefined) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
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
        const lane = this.dirty.get(key);
        if (lane !== undefined) {
          this.dirty.delete(key);
          this.enqueue(key, lane);
        }
      }
    }
  }
}
