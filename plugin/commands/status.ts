// `kubectl flink status NAME`: one screen of what a user needs to know; `--watch` follows it until it settles where
// its spec asks (api/cli/views.ts statusVerdict). Exit 1 on FAILED or ROLLED_BACK, so a CI pipeline can gate on it.
import { errorLine, statusLines, statusVerdict } from '../../api/cli/views.js';
import { asObject, asString, type Json } from '../../api/validation/access.js';
import { print, printObjects, type OutputFormat } from '../output.js';
import type { Session } from '../session.js';

export async function status(session: Session, name: string, output: OutputFormat, watch: boolean): Promise<number> {
  const resource = await session.resolve(name);
  if (watch) return follow(session, resource);
  if (output === 'json' || output === 'yaml' || output === 'name') printObjects(resource, output);
  else for (const line of statusLines(await gather(session, resource))) print(line);
  return statusVerdict(resource).exitCode;
}

const lifecycleOf = (r: Json): string | undefined => asString(asObject(r.status)?.lifecycleState);

/** The resource's events, its session cluster and its newest completed savepoint snapshot. */
async function gather(session: Session, resource: Json) {
  const name = asString(asObject(resource.metadata)?.name) ?? '';
  const kind = asString(resource.kind) ?? 'FlinkDeployment';
  const sessionName = kind === 'FlinkSessionJob' ? asString(asObject(resource.spec)?.deploymentName) : undefined;
  const events = session.call('list events', (c) =>
    c.get<{ items: Json[] } & Json>(
      `/api/v1/namespaces/${session.namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name},involvedObject.kind=${kind}`)}`,
    ),
  );
  const snapshots = session
    .call('list flinkstatesnapshots', (c) =>
      c.list<Json>(
        session.path('FlinkStateSnapshot'),
        `job-reference.kind=${kind},job-reference.name=${name},snapshot.type=SAVEPOINT,snapshot.state=COMPLETED`,
      ),
    )
    .catch(() => [] as Json[]); // a user who may not list snapshots still gets the rest
  const cluster = sessionName
    ? session
        .call('get flinkdeployments', (c) => c.get<Json>(session.path('FlinkDeployment', sessionName)))
        .catch(() => undefined)
    : undefined;
  const newest = (await snapshots).sort((a, b) =>
    String(asObject(b.status)?.resultTimestamp ?? '').localeCompare(String(asObject(a.status)?.resultTimestamp ?? '')),
  )[0];
  return {
    resource,
    events: (await events).items,
    now: Date.now(),
    ...(newest ? { lastSnapshot: newest } : {}),
    ...((await cluster) ? { session: await cluster } : {}),
  };
}

/** One line per change of lifecycle, job state or error, until it settles; polled once a second. */
async function follow(session: Session, first: Json): Promise<number> {
  const kind = asString(first.kind) as 'FlinkDeployment' | 'FlinkSessionJob';
  const name = asString(asObject(first.metadata)?.name) ?? '';
  let resource = first;
  let shown = '';
  for (;;) {
    const s = asObject(resource.status);
    const line = [
      lifecycleOf(resource) ?? '<none>',
      asString(asObject(s?.jobStatus)?.state) ?? '<none>',
      errorLine(asString(s?.error) ?? ''),
    ]
      .join('   ')
      .trimEnd();
    if (line !== shown) print(`${new Date().toISOString().slice(11, 19)}   ${line}`);
    shown = line;
    const verdict = statusVerdict(resource);
    if (verdict.final) return verdict.exitCode;
    await new Promise((r) => setTimeout(r, 1000));
    resource = await session.call(`get ${kind.toLowerCase()}s`, (c) => c.get<Json>(session.path(kind, name)));
  }
}
