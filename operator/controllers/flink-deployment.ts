// The FlinkDeployment controller on the shared frame: it watches FlinkDeployments (a spec change, deletion,
// finalizers or labels — never the operator's own status writes), the JobManager Deployments it owns, and the
// FlinkSessionJobs that name a session cluster, and the FlinkStateSnapshots of its job.
import type { KubernetesObject } from '@kubernetes/client-node';
import { flinkDeploymentCache, flinkSessionJobCache, jobManagerDeploymentCache } from '../../kube/flink-resources.js';
import type { ControllerDefinition } from '../runtime/controller.js';
import { autoscalerGauges } from './autoscaler-gauges.js';
import { CACHES, DeploymentReconciler } from './deployment-reconciler.js';
import { specChanged } from './predicates.js';
import { snapshotsWatch, termDeps, type ControllerOptions } from './resource-reconciler.js';

const sessionOf = (job: KubernetesObject): string[] => {
  const target = (job as { spec?: { deploymentName?: string } }).spec?.deploymentName;
  return target ? [`${job.metadata?.namespace}/${target}`] : [];
};

export function flinkDeploymentController(options: ControllerOptions): ControllerDefinition {
  return {
    name: 'flinkdeployment',
    kind: 'FlinkDeployment',
    watches: [
      { name: CACHES.flinkDeployments, start: flinkDeploymentCache, predicate: specChanged },
      // A JobManager Deployment is named after its FlinkDeployment and labelled app=<name>.
      {
        name: CACHES.jobManagers,
        start: jobManagerDeploymentCache,
        keysOf: (obj) => (obj.metadata?.labels?.app ? [`${obj.metadata.namespace}/${obj.metadata.labels.app}`] : []),
      },
      // A session cluster waits on the session jobs that name it (to be deleted, or to stop before a redeploy).
      { name: CACHES.sessionJobs, start: flinkSessionJobCache, keysOf: (obj) => sessionOf(obj) },
      // A job's snapshots: one finishing may let the next be taken, or the history be trimmed.
      snapshotsWatch('FlinkDeployment'),
    ],
    reconciler: (term) => new DeploymentReconciler(termDeps(term, options)),
    gauges: autoscalerGauges(CACHES.flinkDeployments),
  };
}
