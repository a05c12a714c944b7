// Which watch events call for a reconcile, shared by the controllers of our custom resources.
import type { KubernetesObject } from '@kubernetes/client-node';
import { reconcileTrigger } from '../../api/reconcile/plan.js';

/**
 * Only what calls for a reconcile: a spec change (generation), deletion, finalizers or labels — never the
 * operator's own status writes. Remembers the trigger of each resource last seen, per term.
 */
export function specChanged() {
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
