// The FlinkSessionJob controller on the shared frame: it watches FlinkSessionJobs (a spec change, deletion,
// finalizers or labels) and the FlinkDeployments they name — a session cluster becoming READY, being redeployed or
// going away is what a waiting session job needs to hear about.
import type { KubernetesObject } from '@kubernetes/client-node';
import { flinkDeploymentCache, flinkSessionJobCache } from '../../kube/flink-resources.js';
import type { JarFetcher } from '../artifacts/jar-fetcher.js';
import type { ChangeEvent, ControllerDefinition } from '../runtime/controller.js';
import { specChanged } from './predicates.js';
import { termDeps, type ControllerOptions } from './resource-reconciler.js';
import { SESSION_JOB_CACHES, SessionJobReconciler } from './session-job-reconciler.js';

export interface FlinkSessionJobControllerOptions extends ControllerOptions {
  jars: JarFetcher;
  uploadTimeoutMs: number;
}

/** Which session jobs name which session cluster, kept from the session-job watch's own events. */
class TargetIndex {
  private readonly jobsBySession = new Map<string, Set<string>>();
  private readonly sessionOfJob = new Map<string, string>();

  clear(): void {
    this.jobsBySession.clear();
    this.sessionOfJob.clear();
  }

  track(job: KubernetesObject, event: ChangeEvent): void {
    const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
    const previous = this.sessionOfJob.get(key);
    if (previous) this.jobsBySession.get(previous)?.delete(key);
    this.sessionOfJob.delete(key);
    const target = (job as { spec?: { deploymentName?: string } }).spec?.deploymentName;
    if (event === 'delete' || !target) return;
    const session = `${job.metadata?.namespace}/${target}`;
    this.sessionOfJob.set(key, session);
    if (!this.jobsBySession.has(session)) this.jobsBySession.set(session, new Set());
    this.jobsBySession.get(session)!.add(key);
  }

  jobsOf(session: KubernetesObject): string[] {
    return [...(this.jobsBySession.get(`${session.metadata?.namespace}/${session.metadata?.name}`) ?? [])];
  }
}

export function flinkSessionJobController(options: FlinkSessionJobControllerOptions): ControllerDefinition {
  const targets = new TargetIndex();
  return {
    name: 'flinksessionjob',
    kind: 'FlinkSessionJob',
    watches: [
      {
        name: SESSION_JOB_CACHES.sessionJobs,
        start: flinkSessionJobCache,
        predicate: () => {
          targets.clear(); // a new term lists every session job again
          const changed = specChanged();
          return (obj, event) => {
            targets.track(obj, event);
            return changed(obj, event);
          };
        },
      },
      // Every change of a session cluster, its status included: READY, UPGRADING and gone are what jobs wait for.
      { name: SESSION_JOB_CACHES.sessions, start: flinkDeploymentCache, keysOf: (obj) => targets.jobsOf(obj) },
    ],
    reconciler: (term) => new SessionJobReconciler({ ...termDeps(term, options), jars: options.jars, uploadTimeoutMs: options.uploadTimeoutMs }),
  };
}
