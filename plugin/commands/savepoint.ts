// `kubectl flink savepoint NAME`: a FlinkStateSnapshot for the job (or its savepointTriggerNonce bumped where
// snapshot resources are off); `--wait` prints where the savepoint is once it completed.
import { savepointRequest } from '../../api/cli/operations.js';
import { asObject, asString, type Json } from '../../api/validation/access.js';
import { print, PluginError, printChange } from '../output.js';
import type { Session } from '../session.js';

export async function savepoint(session: Session, name: string, wait: boolean, timeoutMs: number): Promise<number> {
  const resource = await session.resolve(name);
  const request = savepointRequest(resource, {}, Date.now());
  if ('refused' in request) throw new PluginError(request.refused);
  const kind = resource.kind as 'FlinkDeployment' | 'FlinkSessionJob';
  const jobName = (resource.metadata as { name: string }).name;
  let done: () => Promise<string | undefined>;
  if ('snapshot' in request) {
    const created = await session.call('create flinkstatesnapshots', (c) =>
      c.create<Json>(session.path('FlinkStateSnapshot'), request.snapshot),
    );
    printChange({ ...created, kind: 'FlinkStateSnapshot' }, 'created');
    const snapshotName = (created.metadata as { name: string }).name;
    done = async () => {
      const s = asObject(
        (
          await session.call('get flinkstatesnapshots', (c) =>
            c.get<Json>(session.path('FlinkStateSnapshot', snapshotName)),
          )
        ).status,
      );
      if (s?.state === 'FAILED' || s?.state === 'ABANDONED')
        throw new PluginError(
          `savepoint ${snapshotName} ${String(s.state)}: ${asString(s.error) ?? 'no reason given'}`,
        );
      return s?.state === 'COMPLETED' ? asString(s.path) : undefined;
    };
  } else {
    const nonce = (request.patch as { spec: { job: { savepointTriggerNonce: number } } }).spec.job
      .savepointTriggerNonce;
    const patched = await session.call(`patch ${kind.toLowerCase()}s`, (c) =>
      c.patch<Json>(session.path(kind, jobName), 'merge', request.patch),
    );
    printChange({ ...patched, kind }, `savepoint requested (savepointTriggerNonce ${nonce})`);
    done = async () => {
      const r = await session.call(`get ${kind.toLowerCase()}s`, (c) => c.get<Json>(session.path(kind, jobName)));
      const last = asObject(asObject(asObject(asObject(r.status)?.jobStatus)?.savepointInfo)?.lastSavepoint);
      return last?.triggerNonce === nonce ? asString(last.location) : undefined;
    };
  }
  if (!wait) return 0;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const path = await done();
    if (path) {
      print(path);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new PluginError(
    `the savepoint did not complete within ${timeoutMs / 1000} s (it may still: kubectl get flinkstatesnapshots -n ${session.namespace})`,
  );
}
