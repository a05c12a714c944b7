// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok, built in one `go build` of
// local/kube-binaries (k8s.io/kubernetes at one pinned release, its staging modules replaced by their published
// versions) and cached by version outside the repository.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { requireTool, runTool } from '../tools.js';

export const KUBE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];
/** The binaries, plus kwok's default stages (how simulated nodes and pods become ready), from kwok's own module. */
export type KubeBinaries = Record<KubeBinary | 'kwokStages', string>;

const KWOK_STAGES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

const PACKAGES: Record<KubeBinary, string> = {
  etcd: 'go.etcd.io/etcd/server/v3',
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
  kubectl: 'k8s.io/kubernetes/cmd/kubectl',
  kwok: 'sigs.k8s.io/kwok/cmd/kwok',
};

export interface PinnedVersions {
  kubernetes: string;
  kwok: string;
  etcd: string;
}

export function pinnedVersions(moduleDir: string): PinnedVersions {
  const goMod = readFileSync(join(moduleDir, 'go.mod'), 'utf8');
  const version = (module: string) => {
    const match = new RegExp(`^\\s*${module.replace(/[./]/g, '\\$&')} (v[\\w.-]+)\\s*$`, 'm').exec(goMod);
    if (!match?.[1]) throw new Error(`${moduleDir}/go.mod does not pin ${module}`);
    return match[1];
  };
  return {
    kubernetes: version('k8s.io/kubernetes'),
    kwok: version('sigs.k8s.io/kwok'),
    etcd: version('go.etcd.io/etcd/server/v3'),
  };
}

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flink-operator-ts');
}

/** The cache folder of this exact module (versions, replaces and sums): a changed go.mod never reuses old binaries. */
export function binariesDir(moduleDir: string): string {
  const v = pinnedVersions(moduleDir);
  const digest = createHash('sha256')
    .update(readFileSync(join(moduleDir, 'go.mod')))
    .update(readFileSync(join(moduleDir, 'go.sum')))
    .digest('hex')
    .slice(0, 12);
  return join(cacheRoot(), `kubernetes-${v.kubernetes}-kwok-${v.kwok}-etcd-${v.etcd}-${digest}`);
}

export async function ensureKubeBinaries(moduleDir: string, progress: (line: string) => void): Promise<KubeBinaries> {
  const dir = binariesDir(moduleDir);
  const paths = {
    ...Object.fromEntries(KUBE_BINARIES.map((b) => [b, join(dir, b)])),
    kwokStages: join(dir, 'kwok-stages.yaml'),
  } as KubeBinaries;
  if (Object.values(paths).every((p) => existsSync(p))) return paths;

  const go = requireTool(
    'go',
    ['version'],
    "the local control plane is built from Kubernetes' published Go modules; install Go 1.26 or newer",
  );
  const v = pinnedVersions(moduleDir);
  progress(
    `building Kubernetes ${v.kubernetes}, kwok ${v.kwok} and etcd ${v.etcd} from their Go modules with ${go} (first run only: about 5 minutes on 2 cores)`,
  );
  mkdirSync(cacheRoot(), { recursive: true });
  const staging = mkdtempSync(join(cacheRoot(), '.building-'));
  try {
    const minor = /^v1\.(\d+)\./.exec(v.kubernetes)?.[1] ?? '0';
    const ldflags = [
      '-s -w',
      ...['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
        `-X ${pkg}.gitVersion=${v.kubernetes}`,
        `-X ${pkg}.gitMajor=1`,
        `-X ${pkg}.gitMinor=${minor}`,
        `-X ${pkg}.gitTreeState=clean`,
      ]),
      `-X sigs.k8s.io/kwok/pkg/consts.Version=${v.kwok.replace(/^v/, '')}`,
      `-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${v.kubernetes.replace(/^v/, '')}`,
    ].join(' ');
    const started = Date.now();
    const ticker = setInterval(
      () => progress(`  still building … ${Math.round((Date.now() - started) / 1000)} s`),
      30_000,
    );
    try {
      await runTool(
        'go',
        [
          'build',
          '-trimpath',
          '-tags',
          'selinux,notest',
          '-ldflags',
          ldflags,
          '-o',
          `${staging}/`,
          ...KUBE_BINARIES.map((b) => PACKAGES[b]),
        ],
        moduleDir,
        { CGO_ENABLED: '0' },
      );
    } finally {
      clearInterval(ticker);
    }
    renameSync(join(staging, 'server'), join(staging, 'etcd')); // `go build -o dir/` names it after the package path
    writeFileSync(join(staging, 'kwok-stages.yaml'), await kwokStages(moduleDir, v.kwok));
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    progress(`built in ${Math.round((Date.now() - started) / 1000)} s, cached in ${dir}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return paths;
}

async function kwokStages(moduleDir: string, version: string): Promise<string> {
  const out = await runTool('go', ['mod', 'download', '-json', `sigs.k8s.io/kwok@${version}`], moduleDir);
  const kwokDir = (JSON.parse(out) as { Dir: string }).Dir;
  return (
    KWOK_STAGES.map((file) => readFileSync(join(kwokDir, 'kustomize/stage', file), 'utf8').trim()).join('\n---\n') +
    '\n'
  );
}
