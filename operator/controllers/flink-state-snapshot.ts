// The FlinkStateSnapshot controller on the shared frame: it watches FlinkStateSnapshots (a spec change, deletion,
// finalizers or labels) and the FlinkDeployments and FlinkSessionJobs they name — a job that starts running, stops
// or goes away is what a pending or in-flight snapshot needs to hear about.
import type { KubernetesObject } from '@kubernetes/client-node';
import { flinkDeploymentCache, flinkSessionJobCache, flinkStateSnapshotCache } from '../../kube/flink-resources.js';
import type { ControllerDefinition } from '../runtime/controller.js';
import { ReferenceIndex } from './reference-index.js';
import { termDeps, type ControllerOptions } from './resource-reconciler.js';
import { SNAPSHOT_CACHES, StateSnapshotReconciler } from './state-snapshot-reconciler.js';

const jobKey = (kind: string, namespace: string | undefined, name: string): string => `${kind}/${namespace}/${name}`;

export function flinkStateSnapshotController(options: ControllerOptions): ControllerDefinition {
  const jobs = new ReferenceIndex((snapshot) => {
    const reference = (snapshot as { spec?: { jobReference?: { kind?: string; name?: string } } }).spec?.jobReference;
    return reference?.kind && reference.name
      ? jobKey(reference.kind, snapshot.metadata?.namespace, reference.name)
      : undefined;
  });
  const referrers = (kind: string) => (obj: KubernetesObject) =>
    jobs.referrersOf(jobKey(kind, obj.metadata?.namespace, obj.metadata?.name ?? ''));
  return {
    name: 'flinkstatesnapshot',
    kind: 'FlinkStateSnapshot',
    watches: [
      { name: SNAPSHOT_CACHES.snapshots, start: flinkStateSnapshotCache, predicate: () => jobs.predicate() },
      { name: SNAPSHOT_CACHES.deployments, start: flinkDeploymentCache, keysOf: referrers('FlinkDeployment') },
      { name: SNAPSHOT_CACHES.sessionJobs, start: flinkSessionJobCache, keysOf: referrers('FlinkSessionJob') },
    ],
    reconciler: (term) => new StateSnapshotReconciler(termDeps(term, options)),
  };
}
