// The I/O behind the rules that need the outside world: the target session cluster and the jar host's addresses.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ExternalFacts } from '../api/admission.js';
import type { HostResolution, SessionTarget } from '../api/validation/index.js';
import type { ObjectCache } from '../kube/informer.js';
import type { FlinkDeploymentObject } from '../kube/flink-resources.js';

/** Where the webhook finds FlinkDeployments: an informer cache when it has API access. */
export interface SessionClusters {
  lookup(namespace: string, name: string): SessionTarget;
}

export const withoutKubernetesApi: SessionClusters = {
  lookup: () => ({ state: 'unknown', reason: 'the webhook runs without Kubernetes API access' }),
};

/** Session clusters from an informer cache: an unsynced cache is "unknown", never "missing". */
export function sessionClustersFrom(cache: ObjectCache<FlinkDeploymentObject>): SessionClusters {
  return {
    lookup(namespace, name) {
      if (!cache.synced()) return { state: 'unknown', reason: 'the FlinkDeployment cache is not in sync with the API server yet' };
      const deployment = cache.get(namespace, name);
      return deployment ? { state: 'found', deployment: deployment as unknown as Record<string, unknown> } : { state: 'missing' };
    },
  };
}

export interface ResolvedFacts {
  sessionTarget?: SessionTarget;
  jarHost?: HostResolution;
}

export async function resolveFacts(
  needed: ExternalFacts,
  namespace: string | undefined,
  sessions: SessionClusters,
  dnsTimeoutMs: number,
): Promise<ResolvedFacts> {
  const facts: ResolvedFacts = {};
  if (needed.sessionDeploymentName) facts.sessionTarget = sessions.lookup(namespace ?? 'default', needed.sessionDeploymentName);
  if (needed.jarHost) facts.jarHost = await resolveHost(needed.jarHost, dnsTimeoutMs);
  return facts;
}

/** All addresses of a host; `addresses: undefined` when it does not resolve in time. */
export async function resolveHost(host: string, timeoutMs: number): Promise<HostResolution> {
  if (isIP(host)) return { host, addresses: [host] };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    const answers = await Promise.race([lookup(host, { all: true, verbatim: true }).catch(() => undefined), timeout]);
    return { host, addresses: answers?.map((a) => a.address) };
  } finally {
    clearTimeout(timer);
  }
}
