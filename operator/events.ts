// Kubernetes Events about our resources, de-duplicated as client-go's recorder does: the same reason and message
// for the same object bumps `count` and `lastTimestamp` of the one Event instead of adding another.
import { randomBytes } from 'node:crypto';
import type { ReconcileEvent } from '../api/reconcile/plan.js';
import { isNotFound, objectPath, type KubeClient, type KubeObject } from '../kube/client.js';

const COMPONENT = 'flink-operator-ts';
const REMEMBERED = 4096;

export class EventRecorder {
  /** `<uid>/<reason>/<message>` → the Event's name and count, oldest first (a bounded memory). */
  private readonly seen = new Map<string, { name: string; count: number }>();

  constructor(
    private readonly client: KubeClient,
    private readonly instance: string,
  ) {}

  async record(object: KubeObject, event: ReconcileEvent): Promise<void> {
    const meta = object.metadata!;
    const namespace = meta.namespace!;
    const key = `${meta.uid}/${event.reason}/${event.message}`;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const previous = this.seen.get(key);
    if (previous) {
      try {
        await this.client.patch(objectPath('v1', 'events', namespace, previous.name), 'merge', {
          count: previous.count + 1,
          lastTimestamp: now,
        });
        this.remember(key, { name: previous.name, count: previous.count + 1 });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err; // expired: record it anew
      }
    }
    const name = `${meta.name}.${randomBytes(8).toString('hex')}`;
    await this.client.create(objectPath('v1', 'events', namespace), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: meta.name,
        namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason: event.reason,
      message: event.message,
      type: event.type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: this.instance,
    });
    this.remember(key, { name, count: 1 });
  }

  private remember(key: string, value: { name: string; count: number }): void {
    this.seen.delete(key);
    this.seen.set(key, value);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
  }
}
