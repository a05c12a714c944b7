// The operator image: how long `npm run image` takes (cached base, or cold when the base is not cached yet), how large
// the image and its OCI archive are, and the webhook container as the chart runs it (read-only, uid 65532, no
// capabilities): start to ready, and its memory idle and after a burst of reviews. (The operator container needs a
// control plane: its start and memory with one resource are measured by the chart's e2e test.)
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, podman } from '../../local/image.js';
import { runTool } from '../../local/tools.js';
import { issueCertificates } from '../../webhook/certs.js';
import { upstreamExamples } from '../support/examples.js';
import { admissionReview } from '../support/reviews.js';
import { Report, until } from './report.js';

const PORT = 19543;
const STARTS = 5;
const REVIEWS = 2000;

export async function benchImage(): Promise<void> {
  const report = new Report('image: build, size, and the webhook container as the chart runs it');
  const started = Date.now();
  const image = await buildImage();
  report.add(image.baseCached ? 'image_build_cached' : 'image_build_cold', Date.now() - started, 'ms');
  if (!image.baseCached) report.add('image_base_mmdebstrap', image.timingsMs.base, 'ms');
  const p = podman();
  const run = (args: string[]) => runTool(p.command, [...p.args, ...args], process.cwd(), p.env);
  report.add(
    'image_size',
    Number((await run(['image', 'inspect', '--format', '{{.Size}}', image.tag])).trim()) / 2 ** 20,
    'MB',
  );
  report.add('image_oci_archive', statSync(image.archive).size / 2 ** 20, 'MB');

  const tls = mkdtempSync(join(tmpdir(), 'bench-image-tls-'));
  chmodSync(tls, 0o755); // the container's uid 65532 reads it
  const { ca, serving } = issueCertificates(['127.0.0.1'], 1);
  writeFileSync(join(tls, 'tls.crt'), serving.certPem);
  writeFileSync(join(tls, 'tls.key'), serving.keyPem, { mode: 0o644 });
  const call = (path: string, body?: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: PORT,
          path,
          method: body ? 'POST' : 'GET',
          ca: ca.certPem,
          headers: body ? { 'content-type': 'application/json' } : {},
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const startWebhook = () =>
    run([
      'run',
      '-d',
      '--replace',
      '--name',
      'bench-webhook',
      '--read-only',
      '--user',
      '65532:65532',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--network',
      'host',
      '-v',
      `${tls}:/tls:ro`,
      '--entrypoint',
      '/usr/local/bin/node',
      image.tag,
      '/opt/flink-operator-ts/flink-webhook.mjs',
      `--port=${PORT}`,
      '--tls-cert-file=/tls/tls.crt',
      '--tls-private-key-file=/tls/tls.key',
    ]);
  const memoryMb = async () => {
    const usage = (await run(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'bench-webhook']))
      .trim()
      .split(' / ')[0]!;
    const [, value, unit] = /^([\d.]+)\s*([kMG]i?B)$/.exec(usage) ?? [];
    return (
      Number(value) *
      ({ kB: 1 / 1000, KiB: 1 / 1024, MB: 1, MiB: 1, GB: 1000, GiB: 1024 } as Record<string, number>)[unit ?? 'MB']!
    );
  };
  try {
    const starts: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t0 = Date.now();
      await startWebhook();
      await until(async () => ((await call('/readyz')) === 200 ? true : undefined), 60_000, 20);
      starts.push(Date.now() - t0);
    }
    report.add('webhook_container_start_to_ready_p50', starts.sort((a, b) => a - b)[Math.floor(STARTS / 2)]!, 'ms');
    report.add('webhook_container_memory_idle', await memoryMb(), 'MB');
    const examples = upstreamExamples().map((e) => JSON.stringify(admissionReview(e.object as never)));
    for (let i = 0; i < REVIEWS; i++) {
      const status = await call(i % 2 ? '/validate' : '/mutate', examples[i % examples.length]);
      if (status !== 200) throw new Error(`review ${i} answered ${status}`);
    }
    report.add(`webhook_container_memory_after_${REVIEWS}_reviews`, await memoryMb(), 'MB');
  } finally {
    await run(['rm', '-f', '-t', '2', 'bench-webhook']).catch(() => undefined);
  }
  report.summary([
    `${image.tag}; base ${image.baseCached ? 'cached' : 'made now'}; the operator container's figures come from the chart's e2e test.`,
  ]);
}
