// The plugin's one connection to the cluster, as kubectl makes it: --kubeconfig, else KUBECONFIG (several files
// merged) or ~/.kube/config; --context; the context's namespace unless -n says otherwise. Credentials are
// client-node's (certificates, tokens, token files, `exec` plugins) through kube/kubeconfig.ts, never our own.
import { parseTargetName, didYouMean, type FlinkKind } from '../api/cli/operations.js';
import { FLINK_DEPLOYMENT, FLINK_SESSION_JOB, API_VERSION, type KindInfo } from '../api/schema/crd.js';
import type { Json } from '../api/validation/access.js';
import { isNotFound, KubeApiError, KubeClient, objectPath } from '../kube/client.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { PluginError } from './output.js';
import { PLUGIN_VERSION } from './version.js';

export interface GlobalOptions {
  namespace?: string;
  allNamespaces?: boolean;
  context?: string;
  kubeconfig?: string;
}

export const KINDS: Record<FlinkKind, KindInfo> = {
  FlinkDeployment: FLINK_DEPLOYMENT,
  FlinkSessionJob: FLINK_SESSION_JOB,
};

export class Session {
  private constructor(
    readonly client: KubeClient,
    readonly namespace: string,
    readonly allNamespaces: boolean,
    readonly server: string,
  ) {}

  static async open(options: GlobalOptions): Promise<Session> {
    let kc;
    try {
      kc = await loadKubeConfig(options.kubeconfig, options.context);
    } catch (err) {
      throw new PluginError(`cannot load the kubeconfig: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!kc) throw new PluginError('no kubeconfig: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config');
    const context = kc.getContextObject(kc.getCurrentContext());
    const cluster = kc.getCurrentCluster();
    if (!cluster)
      throw new PluginError(`the kubeconfig has no cluster for context ${JSON.stringify(kc.getCurrentContext())}`);
    const client = KubeClient.fromKubeConfig(kc, `kubectl-flink/${PLUGIN_VERSION}`, {
      timeoutMs: 15_000,
      maxResponseBytes: 32 * 2 ** 20,
    });
    return new Session(
      client,
      options.namespace ?? context?.namespace ?? 'default',
      options.allNamespaces === true,
      cluster.server,
    );
  }

  path(kind: FlinkKind | 'FlinkStateSnapshot', name?: string, namespace = this.namespace): string {
    const plural = kind === 'FlinkStateSnapshot' ? 'flinkstatesnapshots' : KINDS[kind].plural;
    return objectPath(API_VERSION, plural, namespace, name);
  }

  /** Every call goes through here: a failure becomes one line that says what to do next. */
  async call<T>(what: string, request: (client: KubeClient) => Promise<T>): Promise<T> {
    try {
      return await request(this.client);
    } catch (err) {
      throw this.explain(what, err);
    }
  }

  /** The resource a name means: FlinkDeployment first, then FlinkSessionJob, unless the name says which. */
  async resolve(text: string): Promise<Json> {
    const target = parseTargetName(text);
    if (typeof target === 'string') throw new PluginError(target, 2);
    for (const kind of target.kinds) {
      try {
        return await this.client.get<Json & { kind: string }>(this.path(kind, target.name));
      } catch (err) {
        if (!isNotFound(err)) throw this.explain(`get ${KINDS[kind].plural}`, err);
      }
    }
    const names = (
      await Promise.all(
        target.kinds.map((kind) => this.call(`list ${KINDS[kind].plural}`, (c) => c.list(this.path(kind)))),
      )
    )
      .flat()
      .map((o) => o.metadata?.name ?? '');
    const guess = didYouMean(target.name, names);
    const kinds = target.kinds.join(' or ');
    throw new PluginError(
      `no ${kinds} ${JSON.stringify(target.name)} in namespace ${JSON.stringify(this.namespace)}${guess ? `; did you mean ${JSON.stringify(guess)}?` : '; kubectl flink list shows what there is'}`,
    );
  }

  private explain(what: string, err: unknown): PluginError {
    if (err instanceof PluginError) return err;
    if (err instanceof KubeApiError) {
      const detail = err.message.replace(/^\S+ \S+: \d+ /, '');
      if (err.status === 403)
        return new PluginError(
          `forbidden: ${detail}; ask for the RBAC verb to ${what} (kubectl auth can-i ${what} -n ${this.namespace})`,
        );
      if (err.status === 401)
        return new PluginError(
          `unauthorized: the API server at ${this.server} refused these credentials; log in again or check the kubeconfig's user`,
        );
      if (err.status === 404 && /the server could not find the requested resource/i.test(detail))
        return new PluginError(
          `the Flink CRDs (${API_VERSION}) are not installed in this cluster; install the flink-operator-ts chart`,
        );
      return new PluginError(`${what}: ${detail}`);
    }
    const message = (err as Error).message ?? String(err);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT')
      return new PluginError(
        `cannot reach the Kubernetes API server at ${this.server} (${code}); is the cluster up, and is this the right context?`,
      );
    return new PluginError(`${what}: ${message.split('\n')[0]}`);
  }

  close(): void {
    this.client.close();
  }
}
