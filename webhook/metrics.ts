// Prometheus metrics of the admission server.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Verdict = 'allowed' | 'patched' | 'denied' | 'bad_request';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'flink_webhook_' });
  const requests = new Counter({
    name: 'flink_webhook_admission_requests_total',
    help: 'Admission requests by path, kind, operation and verdict.',
    labelNames: ['path', 'kind', 'operation', 'verdict'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'flink_webhook_admission_duration_seconds',
    help: 'Time from the request being read to the review being written.',
    labelNames: ['path'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  // Each series looked up once: prom-client hashes a label object on every call, a cost paid per review otherwise.
  const counters = new Map<string, ReturnType<typeof requests.labels>>();
  const histograms = new Map<string, ReturnType<typeof latency.labels>>();
  const series = <T>(cache: Map<string, T>, key: string, create: () => T): T => {
    let found = cache.get(key);
    if (!found) cache.set(key, (found = create()));
    return found;
  };
  return {
    registry,
    record(path: string, kind: string, operation: string, verdict: Verdict, seconds: number): void {
      series(counters, `${path} ${kind} ${operation} ${verdict}`, () =>
        requests.labels({ path, kind, operation, verdict }),
      ).inc();
      series(histograms, path, () => latency.labels({ path })).observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
