// Which resources name which other resource — session jobs their session cluster, snapshots their job — kept from
// the referring watch's own events, so that an event about the named resource can wake the ones that name it.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ChangeEvent } from '../runtime/controller.js';
import { specChanged } from './predicates.js';

export class ReferenceIndex {
  private readonly referrers = new Map<string, Set<string>>();
  private readonly referenceOf = new Map<string, string>();

  /** `target(obj)`: the key of what `obj` names (any string that `referrersOf`'s callers build the same way). */
  constructor(private readonly target: (obj: KubernetesObject) => string | undefined) {}

  /** The referring watch's predicate: indexes every event (a new term lists everything again), then `specChanged`. */
  predicate(): (obj: KubernetesObject, event: ChangeEvent) => boolean {
    this.referrers.clear();
    this.referenceOf.clear();
    const changed = specChanged();
    return (obj, event) => {
      this.track(obj, event);
      return changed(obj, event);
    };
  }

  private track(obj: KubernetesObject, event: ChangeEvent): void {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const previous = this.referenceOf.get(key);
    if (previous) this.referrers.get(previous)?.delete(key);
    this.referenceOf.delete(key);
    const target = this.target(obj);
    if (event === 'delete' || !target) return;
    this.referenceOf.set(key, target);
    if (!this.referrers.has(target)) this.referrers.set(target, new Set());
    this.referrers.get(target)!.add(key);
  }

  /** The `namespace/name` keys of what names `target`. */
  referrersOf(target: string): string[] {
    return [...(this.referrers.get(target) ?? [])];
  }
}
