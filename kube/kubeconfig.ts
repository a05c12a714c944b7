// Which cluster to talk to, and with which credentials — always the current ones: --kubeconfig, else the usual
// places (KUBECONFIG, ~/.kube/config), else in-cluster. Credentials are client-node's own (its in-cluster token
// file re-read every minute, `exec` plugins re-run at their expiry, OIDC), plus kubectl's `tokenFile` key, which
// client-node 1.4 ignores; after a 401 they are loaded afresh (a rotated token, a revoked one), as client-go does.
// client-node is loaded only when there is a cluster, and only its config module (KubeConfig and the
// authenticators): importing the whole package costs ~40 MB of memory and ~0.4 s.
import type { KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** A KubeConfig whose credentials can be reloaded; the informers and the REST client share one. */
export interface LiveKubeConfig extends KubeConfig {
  /** Loads the credentials afresh (at most once a second); false when it was done a moment ago. */
  refreshCredentials(): boolean;
}

export const isLiveKubeConfig = (kc: KubeConfig): kc is LiveKubeConfig =>
  typeof (kc as Partial<LiveKubeConfig>).refreshCredentials === 'function';

/** Undefined when there is no configuration anywhere (local runs without a cluster). */
export async function loadKubeConfig(path: string | undefined, context?: string): Promise<LiveKubeConfig | undefined> {
  const source = path
    ? 'file'
    : process.env.KUBECONFIG || existsSync(join(homedir(), '.kube/config'))
      ? 'default'
      : process.env.KUBERNETES_SERVICE_HOST
        ? 'cluster'
        : undefined;
  if (!source) return undefined;
  if (path && !existsSync(path)) throw new Error(`--kubeconfig ${path} does not exist`);
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
  const files = source === 'file' ? [path!] : source === 'default' ? defaultFiles() : [];
  const load = (): KubeConfig => {
    const kc = new KubeConfig();
    if (source === 'file') kc.loadFromFile(path!);
    else if (source === 'default') kc.loadFromDefault();
    else kc.loadFromCluster();
    if (context) kc.setCurrentContext(context);
    withTokenFiles(kc, files);
    return kc;
  };

  /** Every request asks `current` for its credentials; a refresh swaps in freshly loaded ones. */
  class ReloadingKubeConfig extends KubeConfig implements LiveKubeConfig {
    private current = load();
    private refreshedAt = Date.now();

    constructor() {
      super();
      this.loadFromOptions({
        clusters: this.current.getClusters(),
        contexts: this.current.getContexts(),
        users: this.current.getUsers(),
        currentContext: this.current.getCurrentContext(),
      });
    }

    override applyToFetchOptions(opts: Parameters<KubeConfig['applyToFetchOptions']>[0]) {
      return this.current.applyToFetchOptions(opts);
    }

    override applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]) {
      return this.current.applyToHTTPSOptions(opts);
    }

    override applySecurityAuthentication(context: Parameters<KubeConfig['applySecurityAuthentication']>[0]) {
      return this.current.applySecurityAuthentication(context);
    }

    refreshCredentials(): boolean {
      if (Date.now() - this.refreshedAt < 1000) return false;
      this.refreshedAt = Date.now();
      try {
        this.current = load();
      } catch {
        return false; // a half-written file: keep what we have, the next 401 tries again
      }
      return true;
    }
  }
  return new ReloadingKubeConfig();
}

function defaultFiles(): string[] {
  const fromEnv = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  return fromEnv.length > 0 ? fromEnv : [join(homedir(), '.kube/config')];
}

/**
 * kubectl's `users[].user.tokenFile` (re-read every minute by client-go): handed to client-node's own token-file
 * authenticator, which re-reads it as it does the in-cluster token. The first file naming a user wins, as kubectl
 * merges them; a user with an inline token, `exec` or an auth provider keeps those.
 */
function withTokenFiles(kc: KubeConfig, files: string[]): void {
  const tokenFiles = new Map<string, string>();
  for (const file of files) {
    let doc: { users?: { name?: string; user?: { tokenFile?: unknown } }[] } | undefined;
    try {
      doc = parse(readFileSync(file, 'utf8')) as typeof doc;
    } catch {
      continue; // client-node reported or skipped it already
    }
    for (const entry of doc?.users ?? []) {
      const tokenFile = entry.user?.tokenFile;
      if (!entry.name || typeof tokenFile !== 'string' || tokenFiles.has(entry.name)) continue;
      tokenFiles.set(entry.name, isAbsolute(tokenFile) ? tokenFile : join(dirname(file), tokenFile));
    }
  }
  if (tokenFiles.size === 0) return;
  const users = kc.getUsers().map((user) => {
    const tokenFile = tokenFiles.get(user.name);
    if (!tokenFile || user.token || user.exec || user.authProvider) return user;
    return { ...user, authProvider: { name: 'tokenFile', config: { tokenFile } } };
  });
  kc.loadFromOptions({
    clusters: kc.getClusters(),
    contexts: kc.getContexts(),
    users,
    currentContext: kc.getCurrentContext(),
  });
}
