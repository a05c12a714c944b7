// The FlinkSessionJob controller on the shared frame: it watches FlinkSessionJobs (a spec change, deletion,
// finalizers or labels) and the FlinkDeployments they name — a session cluster becoming READY, being redeployed or
// going away is what a waiting session job needs to hear about — and the FlinkStateSnapshots of its job.
import { flinkDeploymentCache, flinkSessionJobCache } from '../../kube/flink-resources.js';
import type { JarFetcher } from '../artifacts/jar-fetcher.js';
import type { ControllerDefinition } from '../runtime/controller.js';
import { ReferenceIndex } from './reference-index.js';
import { snapshotsWatch, termDeps, type ControllerOptions } from './resource-reconciler.js';
import { SESSION_JOB_CACHES, SessionJobReconciler } from './session-job-reconciler.js';

export interface FlinkSessionJobControllerOptions extends ControllerOptions {
  jars: JarFetcher;
  uploadTimeoutMs: number;
}

export function flinkSessionJobController(options: FlinkSessionJobControllerOptions): ControllerDefinition {
  const targets = new ReferenceIndex((job) => {
    const session = (job as { spec?: { deploymentName?: string } }).spec?.deploymentName;
    return session ? `${job.metadata?.namespace}/${session}` : undefined;
  });
  return {
    name: 'flinksessionjob',
    kind: 'FlinkSessionJob',
    watches: [
      {
        name: SESSION_JOB_CACHES.sessionJobs,
        start: flinkSessionJobCache,
        predicate: () => targets.predicate(),
      },
      // Every change of a session cluster, its status included: READY, UPGRADING and gone are what jobs wait for.
      {
        name: SESSION_JOB_CACHES.sessions,
        start: flinkDeploymentCache,
        keysOf: (obj) => targets.referrersOf(`${obj.metadata?.namespace}/${obj.metadata?.name}`),
      },
      snapshotsWatch('FlinkSessionJob'),
    ],
    reconciler: (term) =>
      new SessionJobReconciler({
        ...termDeps(term, options),
        jars: options.jars,
        uploadTimeoutMs: options.uploadTimeoutMs,
      }),
  };
}
