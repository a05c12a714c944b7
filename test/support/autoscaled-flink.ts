// A stand-in for the part of Flink 2.2.1's REST API the autoscaler reads, in its shapes (the contract test checks
// them against the real runner): a chain of vertices — a source, then keyed stages, each at parallelism 4 — and
// their subtask metrics. For what the real thing cannot do here: thousands of cycles, a stall on demand, and a
// metric fetcher that has not yet reached the TaskManagers (Flink then lists no metric names at all).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const JOB = 'f'.repeat(32);
const vertexId = (i: number) => i.toString(16).padStart(32, '0');

/** `GET /jobs/:id` of a chain of `vertices` vertices that have each read and written `records`. */
export function jobDetails(vertices: number, records: number) {
  const ids = Array.from({ length: vertices }, (_, i) => vertexId(i));
  return {
    jid: JOB,
    name: 'chain',
    state: 'RUNNING',
    timestamps: { RUNNING: Date.now() - 3_600_000 },
    vertices: ids.map((id, i) => ({
      id,
      name: i === 0 ? 'Source: events' : `stage-${i}`,
      maxParallelism: 128,
      parallelism: 4,
      status: 'RUNNING',
      metrics: {
        'read-records': i === 0 ? 0 : records,
        'read-records-complete': true,
        'write-records': records,
        'write-records-complete': true,
        'accumulated-busy-time': records / 10,
      },
    })),
    plan: {
      jid: JOB,
      nodes: ids.map((id, i) => ({
        id,
        ...(i > 0 ? { inputs: [{ num: 0, id: ids[i - 1], ship_strategy: 'HASH' }] } : {}),
      })),
    },
  };
}

const SOURCE_METRICS = [
  'Source__events.numRecordsInPerSecond',
  'Source__events.numRecordsIn',
  'Source__events.pendingRecords',
];
const COMMON = ['busyTimeMsPerSecond', 'backPressuredTimeMsPerSecond', 'numRecordsInPerSecond', 'idleTimeMsPerSecond'];

export interface FakeFlinkOptions {
  vertices: number;
  /** Before each answer. */
  delayMs?: number;
  /** The first this many metric-name listings come back empty, as before Flink's metric fetcher first ran. */
  emptyListings?: number;
}

export async function fakeFlink(
  options: FakeFlinkOptions,
): Promise<{ server: Server; url: string; calls: () => number; close: () => void }> {
  let calls = 0;
  let records = 0;
  let emptyListings = options.emptyListings ?? 0;
  const source = vertexId(0);
  const server = createServer((req, res) => {
    calls++;
    const url = new URL(req.url ?? '/', 'http://x');
    const answer = (body: unknown) =>
      setTimeout(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        options.delayMs ?? 0,
      );
    const vertex = /^\/jobs\/\w+\/vertices\/(\w+)\/subtasks\/metrics$/.exec(url.pathname);
    if (url.pathname === `/jobs/${JOB}`) return answer(jobDetails(options.vertices, (records += 60_000)));
    if (vertex) {
      const get = url.searchParams.get('get');
      if (!get && emptyListings > 0) {
        emptyListings--;
        return answer([]);
      }
      const names = vertex[1] === source ? [...COMMON, ...SOURCE_METRICS] : COMMON;
      if (!get) return answer(names.map((id) => ({ id })));
      return answer(get.split(',').map((id) => ({ id, min: 100, max: 900, avg: 500, sum: 2000, skew: 80 })));
    }
    if (url.pathname === '/jobmanager/metrics')
      return answer([
        { id: 'taskSlotsTotal', value: '8' },
        { id: 'taskSlotsAvailable', value: '4' },
      ]);
    if (url.pathname === '/taskmanagers/metrics')
      return answer(
        (url.searchParams.get('get') ?? '').split(',').map((id) => ({ id, min: 1, max: 2e8, avg: 1e8, sum: 2e8 })),
      );
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
