// The kubectl-flink release: a reproducible archive of the bundle (and the licence) and the krew manifest naming it
// by its sha256. Reproducible — fixed modes and times, no owners — so the same tree always gives the same digest.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { stringify } from 'yaml';
import { repoRoot } from './stack.js';
import { PINNED_NODE } from '../tools/pinned-node.js';

export interface PluginRelease {
  version: string;
  archive: string;
  sha256: string;
  /** The krew manifest (plugins/flink.yaml) for this archive. */
  manifest: string;
}

const ARCHIVE_DIR = 'kubectl-flink';
const EPOCH = new Date(0);

/** Packs dist/kubectl-flink.mjs (run `npm run build` first) into `outDir` and writes nothing else. */
export async function releasePlugin(outDir: string): Promise<PluginRelease> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
    repository: { url: string };
  };
  const staging = join(outDir, 'staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, ARCHIVE_DIR), { recursive: true });
  const files = [
    ['dist/kubectl-flink.mjs', 'kubectl-flink', 0o755],
    ['LICENSE', 'LICENSE', 0o644],
  ] as const;
  for (const [from, to, mode] of files) {
    const target = join(staging, ARCHIVE_DIR, to);
    copyFileSync(join(repoRoot, from), target);
    chmodSync(target, mode);
    utimesSync(target, EPOCH, EPOCH);
  }
  const archive = join(outDir, `kubectl-flink-v${pkg.version}.tar.gz`);
  await createTar(
    { file: archive, cwd: staging, gzip: { level: 9 }, portable: true, mtime: EPOCH },
    files.map(([, to]) => `${ARCHIVE_DIR}/${to}`),
  );
  rmSync(staging, { recursive: true, force: true });
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  return {
    version: pkg.version,
    archive,
    sha256,
    manifest: krewManifest(pkg.version, pkg.repository.url.replace(/\.git$/, ''), sha256),
  };
}

/** krew's Plugin manifest (krew.googlecontainertools.github.com/v1alpha2): Linux and macOS, where `node` runs it. */
export function krewManifest(version: string, repository: string, sha256: string): string {
  const manifest = {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: 'flink' },
    spec: {
      version: `v${version}`,
      homepage: repository,
      shortDescription: 'Operate Apache Flink deployments and jobs',
      description: [
        'Everyday operations on Apache Flink on Kubernetes (FlinkDeployment and',
        'FlinkSessionJob, flink.apache.org/v1beta1): list, status (--watch gates a',
        'pipeline on STABLE or FAILED), suspend, resume, restart, rollback and',
        "savepoint --wait, with kubectl's flags and output formats.",
        '',
      ].join('\n'),
      caveats: `kubectl-flink runs on Node.js ${PINNED_NODE.split('.')[0]} (${PINNED_NODE} or newer): \`node\` must be on PATH.\n`,
      platforms: [
        {
          selector: { matchExpressions: [{ key: 'os', operator: 'In', values: ['linux', 'darwin'] }] },
          uri: `${repository}/releases/download/v${version}/kubectl-flink-v${version}.tar.gz`,
          sha256,
          files: [
            { from: `${ARCHIVE_DIR}/kubectl-flink`, to: '.' },
            { from: `${ARCHIVE_DIR}/LICENSE`, to: '.' },
          ],
          bin: 'kubectl-flink',
        },
      ],
    },
  };
  return `# kubectl-flink's krew manifest, written by \`npm run plugin:release\` with the archive it names.\n${stringify(manifest, { lineWidth: 0 })}`;
}
