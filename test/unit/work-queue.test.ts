// The work queue's promises: one worker per key at a time, no key queued twice, a change during processing not lost,
// and a failing key backing off exponentially up to the cap — never a hot loop — while other keys keep going.
import { expect } from 'chai';
import { WorkQueue, type Outcome } from '../../operator/work-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const done: Outcome = { requeueAfterMs: undefined };

describe('work queue', () => {
  let queue: WorkQueue | undefined;
  afterEach(async () => queue?.stop());

  /** One worker, held by `key`'s first run until `release()`: what is added meanwhile waits; `seen` is the order run. */
  async function heldBy(key: string) {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    queue = new WorkQueue(
      async (next) => {
        if (next === key && !seen.includes(key)) await gate;
        seen.push(next);
        return done;
      },
      { workers: 1 },
      () => undefined,
    );
    queue.start();
    queue.add(key);
    await sleep(5);
    return { seen, release, queue };
  }

  it('never processes one key on two workers at once, and runs it again when it changed meanwhile', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    queue = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        await sleep(30);
        active--;
        return done;
      },
      { workers: 4 },
      () => undefined,
    );
    queue.start();
    queue.add('ns/a');
    await sleep(5);
    for (let i = 0; i < 10; i++) queue.add('ns/a'); // changes while it is processed
    await sleep(150);
    expect(maxActive).to.equal(1);
    expect(runs, 'once, then once more for all the changes that came meanwhile').to.equal(2);
  });

  it('queues a key once however often it is added before a worker takes it', async () => {
    const { seen, release, queue } = await heldBy('block');
    for (let i = 0; i < 5; i++) queue.add('ns/b');
    release();
    await sleep(30);
    expect(seen).to.deep.equal(['block', 'ns/b']);
  });

  it('backs a failing key off exponentially to the cap while other keys keep going', async () => {
    const failures: number[] = [];
    let healthy = 0;
    const retries: number[] = [];
    queue = new WorkQueue(
      async (key) => {
        if (key === 'ns/broken') {
          failures.push(Date.now());
          throw new Error('Flink REST unreachable');
        }
        healthy++;
        return { requeueAfterMs: 10 };
      },
      { workers: 2, baseBackoffMs: 10, maxBackoffMs: 80 },
      (_key, _err, retryInMs) => retries.push(retryInMs),
    );
    queue.start();
    queue.add('ns/broken');
    queue.add('ns/healthy');
    await sleep(400);
    expect(retries.slice(0, 5)).to.deep.equal([10, 20, 40, 80, 80]);
    expect(failures.length, 'a handful of tries in 400 ms, not a hot loop').to.be.within(5, 8);
    expect(healthy, 'the healthy key kept its own schedule').to.be.greaterThan(15);
  });

  it('forgets the failures of a key once it succeeds', async () => {
    let calls = 0;
    const retries: number[] = [];
    queue = new WorkQueue(
      async () => {
        calls++;
        if (calls === 1 || calls === 2 || calls === 4) throw new Error('conflict');
        return calls === 3 ? { requeueAfterMs: 0 } : done;
      },
      { workers: 1, baseBackoffMs: 10 },
      (_k, _e, retryInMs) => retries.push(retryInMs),
    );
    queue.start();
    queue.add('ns/c');
    await sleep(120);
    expect(retries).to.deep.equal([10, 20, 10]);
  });

  it('keeps the earliest of several delayed adds', async () => {
    const at: number[] = [];
    queue = new WorkQueue(
      async () => (at.push(Date.now()), done),
      { workers: 1 },
      () => undefined,
    );
    queue.start();
    const start = Date.now();
    queue.addAfter('ns/d', 200);
    queue.addAfter('ns/d', 20);
    queue.addAfter('ns/d', 100);
    await sleep(300);
    expect(at).to.have.length(1);
    expect(at[0]! - start).to.be.below(100);
  });

  it('takes a changed key ahead of the timed looks already waiting, and a promoted key only once', async () => {
    const { seen, release, queue } = await heldBy('block');
    for (const key of ['ns/idle-1', 'ns/idle-2', 'ns/idle-3']) queue.addAfter(key, 0);
    queue.add('ns/changed');
    queue.add('ns/idle-3'); // a timed look that is now also a change
    expect(queue.depth).to.equal(4);
    release();
    await sleep(30);
    expect(seen).to.deep.equal(['block', 'ns/changed', 'ns/idle-3', 'ns/idle-1', 'ns/idle-2']);
    expect(queue.depth).to.equal(0);
  });

  it('puts a key changed while it is processed back in the change lane, even if a timed look came too', async () => {
    const { seen, release, queue } = await heldBy('ns/busy');
    queue.addAfter('ns/idle', 0);
    queue.add('ns/busy');
    queue.addAfter('ns/busy', 0);
    release();
    await sleep(30);
    expect(seen).to.deep.equal(['ns/busy', 'ns/busy', 'ns/idle']);
  });
});
