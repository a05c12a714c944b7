// The I/O behind the rules that need the outside world: the target session cluster, the ServiceAccount a
// FlinkDeployment names, the job a FlinkStateSnapshot names, and the jar host's addresses.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ExternalFacts } from '../api/admission.js';
import type { HostResolution, JobTarget, ServiceAccountFact, SessionTarget } from '../api/validation/index.js';
import type { JobReference } from '../api/validation/state-snapshot.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ObjectCache } from '../kube/informer.js';
import type { FlinkDeploymentObject, FlinkSessionJobObject } from '../kube/flink-resources.js';

/** What the webhook looks up in the cluster: informer caches when it has API access. */
export interface ClusterLookups {
  session(namespace: string, name: string): SessionTarget;
  serviceAccount(namespace: string, name: string): ServiceAccountFact;
  job(namespace: string, reference: JobReference): JobTarget;
}

const NO_API = 'the webhook runs without Kubernetes API access';
export const withoutKubernetesApi: ClusterLookups = {
  session: () => ({ state: 'unknown', reason: NO_API }),
  serviceAccount: (namespace, name) => ({ name, namespace, state: 'unknown' }),
  job: () => ({ state: 'unknown', reason: NO_API }),
};

/** Lookups in informer caches: an unsynced cache is "unknown", never "missing". */
export function clusterLookupsFrom(
  deployments: ObjectCache<FlinkDeploymentObject>,
  sessionJobs: ObjectCache<FlinkSessionJobObject>,
  serviceAccounts: ObjectCache<KubernetesObject>,
): ClusterLookups {
  const find = (cache: ObjectCache<KubernetesObject>, kind: string, namespace: string, name: string): JobTarget => {
    if (!cache.synced())
      return { state: 'unknown', reason: `the ${kind} cache is not in sync with the API server yet` };
    const found = cache.get(namespace, name);
    return found ? { state: 'found', resource: found as unknown as Record<string, unknown> } : { state: 'missing' };
  };
  return {
    session(namespace, name) {
      const found = find(deployments, 'FlinkDeployment', namespace, name);
      return found.state === 'found' ? { state: 'found', deployment: found.resource } : found;
    },
    job(namespace, reference) {
      return find(
        reference.kind === 'FlinkDeployment' ? deployments : sessionJobs,
        reference.kind,
        namespace,
        reference.name,
      );
    },
    serviceAccount(namespace, name) {
      const state = !serviceAccounts.synced() ? 'unknown' : serviceAccounts.get(namespace, name) ? 'found' : 'missing';
      return { name, namespace, state };
    },
  };
}

export interface ResolvedFacts {
  sessionTarget?: SessionTarget;
  serviceAccount?: ServiceAccountFact;
  jobTarget?: JobTarget;
  jarHost?: HostResolution;
}

export async function resolveFacts(
  needed: ExternalFacts,
  namespace: string | undefined,
  cluster: ClusterLookups,
  dnsTimeoutMs: number,
  resolve: Lookup = systemLookup,
): Promise<ResolvedFacts> {
  const facts: ResolvedFacts = {};
  const ns = namespace ?? 'default';
  if (needed.sessionDeploymentName) facts.sessionTarget = cluster.session(ns, needed.sessionDeploymentName);
  if (needed.serviceAccount) facts.serviceAccount = cluster.serviceAccount(ns, needed.serviceAccount);
  if (needed.jobReference) facts.jobTarget = cluster.job(ns, needed.jobReference);
  if (needed.jarHost) facts.jarHost = await resolveHost(needed.jarHost, dnsTimeoutMs, resolve);
  return facts;
}

/** How a host name is looked up: the system resolver (getaddrinfo, /etc/hosts and the cluster's DNS), or a stand-in. */
export type Lookup = (host: string) => Promise<{ address: string }[]>;
export const systemLookup: Lookup = (host) => lookup(host, { all: true, verbatim: true });

/** Errors that mean the name does not exist, as opposed to no answer. */
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME']);

/**
 * All addresses of a host; `addresses: undefined` when the name does not exist; `unchecked` when resolution gave
 * no answer in time or failed otherwise (the validating rule then refuses the host).
 */
export async function resolveHost(
  host: string,
  timeoutMs: number,
  resolve: Lookup = systemLookup,
): Promise<HostResolution> {
  if (isIP(host)) return { host, addresses: [host] };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), timeoutMs)));
  try {
    const answer = await Promise.race([resolve(host).catch((err: NodeJS.ErrnoException) => err), timeout]);
    if (answer === 'timeout')
      return { host, addresses: undefined, unchecked: `no answer from name resolution within ${timeoutMs} ms` };
    if (answer instanceof Error) {
      return NOT_FOUND.has(answer.code ?? '')
        ? { host, addresses: undefined }
        : { host, addresses: undefined, unchecked: `name resolution failed: ${answer.code ?? answer.message}` };
    }
    return { host, addresses: answer.map((a) => a.address) };
  } finally {
    clearTimeout(timer);
  }
}
