// Admission throughput and latency of the real flink-webhook over HTTPS, with the upstream basic.yaml:
// first over keep-alive connections (as the API server sends), each beside its floor (bare node:https answering the
// same review in the same run), then with a new TLS connection per review.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upstreamExamples } from '../support/examples.js';
import { admissionReview } from '../support/reviews.js';
import { bundle } from '../../local/image.js';
import { chartNodeFlags, imageEnvironment } from '../../local/stack.js';
import { repoRoot } from '../support/paths.js';
import { startWebhook, type WebhookProcess } from '../support/webhook-process.js';
import { memoryMb, Report } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 8;

export async function benchWebhook(): Promise<void> {
  const report = new Report(
    `webhook: ${SECONDS} s per phase, ${CONNECTIONS} connections, load generator on the same 2-core machine`,
  );
  const webhook = await startWebhook();
  try {
    const basic = upstreamExamples().find((e) => e.file === 'basic.yaml')!.object;
    const mutated = (await webhook.post('/mutate', admissionReview(basic, { uid: 'bench' }))).json<{
      response: { patch: string };
    }>();
    const fastJsonPatch = (await import('fast-json-patch')).default;
    const defaulted = fastJsonPatch.applyPatch(
      structuredClone(basic),
      JSON.parse(Buffer.from(mutated.response.patch, 'base64').toString()),
    ).newDocument;

    for (const [path, object] of [
      ['/validate', defaulted],
      ['/mutate', basic],
    ] as const) {
      const body = JSON.stringify(admissionReview(object, { uid: 'bench' }));
      const expected = (await webhook.post(path, body)).text;
      const result = await keepAlive(webhook.port, webhook.ca, path, body, expected);
      const name = path.slice(1);
      if (result.errors + result.non2xx + result.mismatches > 0)
        throw new Error(
          `${path}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.mismatches} wrong answers`,
        );
      // The floor, in the same run: bare node:https answering the same review with the same answer.
      const floor = await withFloor(webhook.certDir, expected, (port) =>
        keepAlive(port, webhook.ca, path, body, expected),
      );
      const parseFloor = await withFloor(
        webhook.certDir,
        expected,
        (port) => keepAlive(port, webhook.ca, path, body, expected),
        'parse',
      );
      report.add(`webhook.${name}.keepalive.throughput`, result.requests.average, 'reviews/s');
      report.add(`webhook.${name}.keepalive.p50`, result.latency.p50, 'ms');
      report.add(`webhook.${name}.keepalive.p99`, result.latency.p99, 'ms');
      report.add(`webhook.${name}.floor.throughput`, floor.requests.average, 'reviews/s');
      report.add(`webhook.${name}.floor.p99`, floor.latency.p99, 'ms');
      report.add(`webhook.${name}.of-floor`, result.requests.average / floor.requests.average, 'ratio');
      report.add(`webhook.${name}.parse-floor.throughput`, parseFloor.requests.average, 'reviews/s');
      report.add(`webhook.${name}.parse-floor.of-floor`, parseFloor.requests.average / floor.requests.average, 'ratio');
    }

    const body = JSON.stringify(admissionReview(defaulted, { uid: 'bench' }));
    const fresh = await newConnectionPerReview(webhook, '/validate', body);
    report.add('webhook.validate.new-connection.throughput', fresh.perSecond, 'reviews/s');
    report.add('webhook.validate.new-connection.p50', fresh.p50, 'ms');
    report.add('webhook.validate.new-connection.p99', fresh.p99, 'ms');
    report.add('webhook.peak-rss', memoryMb(webhook.proc.pid!, 'VmHWM'), 'MB');
    report.add('webhook.with-kubeconfig.peak-rss', await peakWithKubeconfig(body), 'MB');
    const shipped = mkdtempSync(join(tmpdir(), 'flink-webhook-bundle-'));
    await bundle(shipped);
    const image = {
      bin: join(shipped, 'flink-webhook.mjs'),
      nodeFlags: chartNodeFlags('flink-webhook.mjs'),
      env: imageEnvironment(),
    };
    const asShipped = await underLoad(body, [], image);
    report.add('webhook.shipped.validate.keepalive.throughput', asShipped.throughput, 'reviews/s');
    report.add('webhook.shipped.peak-rss', asShipped.peakRss, 'MB');
    report.add('webhook.shipped.with-kubeconfig.peak-rss', await peakWithKubeconfig(body, image), 'MB');
    report.summary([
      'with-kubeconfig: the same /validate keep-alive load on a webhook that also runs its informers (the API server',
      'here is unreachable, so the caches stay empty). shipped: the bundle the image runs, with the node flags of the',
      `chart's webhook container (${chartNodeFlags('flink-webhook.mjs').join(' ')}) and the image's environment`,
      `(${Object.entries(imageEnvironment())
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}), under the same load (npm run build leaves the modules unbundled).`,
      'floor: bare node:https in its own process, same certificate and TLS settings, reading each body and answering it',
      'with the same AdmissionReview. parse-floor: the same server that also JSON.parses each body — the least any webhook',
      'reading its reviews does. Targets: ≥ 0.7 of the floor with p99 ≤ 2 ms (keep-alive), peak RSS ≤ 80 MB.',
      'Every answer was checked against the expected AdmissionReview.',
    ]);
  } finally {
    await webhook.stop();
  }
}

type Launch = { bin?: string; nodeFlags?: string[]; env?: Record<string, string> };

async function peakWithKubeconfig(body: string, launch: Launch = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'flink-webhook-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]',
      'users: [{name: u, user: {token: bench}}]',
      'contexts: [{name: c, context: {cluster: c, user: u}}]',
      'current-context: c',
      '',
    ].join('\n'),
  );
  return (await underLoad(body, ['--kubeconfig', kubeconfig], launch)).peakRss;
}

/** A webhook's /validate keep-alive throughput, and its peak RSS after that load. */
async function underLoad(
  body: string,
  args: string[],
  launch: Launch,
): Promise<{ throughput: number; peakRss: number }> {
  const webhook = await startWebhook(args, launch);
  try {
    const expected = (await webhook.post('/validate', body)).text;
    const result = await keepAlive(webhook.port, webhook.ca, '/validate', body, expected);
    return { throughput: result.requests.average, peakRss: memoryMb(webhook.proc.pid!, 'VmHWM') };
  } finally {
    await webhook.stop();
  }
}

/** Runs `load` against a bare node:https server (test/bench/https-floor.ts) answering `answer`. */
async function withFloor<T>(
  certDir: string,
  answer: string,
  load: (port: number) => Promise<T>,
  mode: 'answer' | 'parse' = 'answer',
): Promise<T> {
  const answerFile = join(certDir, 'floor-answer.json');
  writeFileSync(answerFile, answer);
  const floor = spawn(process.execPath, [join(repoRoot, 'dist/test/bench/https-floor.js'), certDir, answerFile, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      floor.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      floor.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
    });
    return await load(port);
  } finally {
    floor.kill();
  }
}

async function keepAlive(port: number, ca: string, path: string, body: string, expected: string) {
  return autocannon({
    url: `https://127.0.0.1:${port}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: SECONDS,
    expectBody: expected,
    tlsOptions: { ca },
    servername: 'localhost',
  } as autocannon.Options);
}

/** Workers that each open a new TLS connection for every review, as a client without keep-alive would. */
async function newConnectionPerReview(webhook: WebhookProcess, path: string, body: string) {
  const latencies: number[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = request(
        {
          host: '127.0.0.1',
          port: webhook.port,
          path,
          method: 'POST',
          agent: false,
          ca: webhook.ca,
          servername: 'localhost',
          headers: { 'content-type': 'application/json', connection: 'close' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (Date.now() < deadline) await one();
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}
