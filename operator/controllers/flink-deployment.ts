// The FlinkDeployment controller on the shared frame: it watches FlinkDeployments (a spec change, deletion,
// finalizers or labels — never the operator's own status writes) and the JobManager Deployments it owns.
import type { KubernetesObject } from '@kubernetes/client-node';
import { reconcileTrigger } from '../../api/reconcile/plan.js';
import type { FlatConfig } from '../../api/flink-config.js';
import { flinkDeploymentCache, jobManagerDeploymentCache } from '../../kube/flink-resources.js';
import { EventRecorder } from '../events.js';
import type { RestAddresses } from '../flink-rest.js';
import type { ControllerDefinition } from '../runtime/controller.js';
import { CACHES, DeploymentReconciler } from './deployment-reconciler.js';

export interface FlinkDeploymentControllerOptions {
  identity: string;
  addresses: RestAddresses;
  operatorConfig: () => FlatConfig;
  flinkTimeoutMs: number;
}

/** Only what calls for a reconcile: the trigger of each FlinkDeployment last seen, per term. */
function specChanged() {
  const seen = new Map<string, string>();
  return (obj: KubernetesObject, event: 'add' | 'update' | 'delete') => {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    if (event === 'delete') {
      seen.delete(key);
      return true;
    }
    const signature = reconcileTrigger(obj.metadata as Parameters<typeof reconcileTrigger>[0]);
    if (seen.get(key) === signature) return false;
    seen.set(key, signature);
    return true;
  };
}

export function flinkDeploymentController(options: FlinkDeploymentControllerOptions): ControllerDefinition {
  return {
    name: 'flinkdeployment',
    kind: 'FlinkDeployment',
    watches: [
      { name: CACHES.flinkDeployments, start: flinkDeploymentCache, predicate: specChanged },
      // A JobManager Deployment is named after its FlinkDeployment and labelled app=<name>.
      { name: CACHES.jobManagers, start: jobManagerDeploymentCache, keysOf: (obj) => (obj.metadata?.labels?.app ? [`${obj.metadata.namespace}/${obj.metadata.labels.app}`] : []) },
    ],
    reconciler: (term) =>
      new DeploymentReconciler({
        client: term.client,
        events: new EventRecorder(term.client, options.identity),
        addresses: options.addresses,
        operatorConfig: options.operatorConfig,
        log: term.log,
        caches: term.caches,
        signal: term.fence.signal,
        flinkTimeoutMs: options.flinkTimeoutMs,
      }),
  };
}
