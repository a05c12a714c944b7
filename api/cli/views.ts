// What `kubectl flink list` and `status` show, without I/O: rows of kubectl-style tables, the one-screen status,
// and the exit code a status means (so `status` can gate a CI pipeline).
import { VALIDATION_ERROR_TYPE } from '../reconcile/context.js';
import { asInteger, asObject, asString, type Json } from '../validation/access.js';

export interface Table {
  headers: string[];
  rows: string[][];
}

/** kubectl's HumanDuration: `42s`, `3m20s`, `45m`, `5h30m`, `3d4h`, `12d`, `2y`. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const at = (obj: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => asObject(o)?.[k], obj);
const text = (obj: unknown, ...path: string[]): string => {
  const value = at(obj, ...path);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
};
const age = (resource: Json, now: number): string => {
  const created = Date.parse(text(resource, 'metadata', 'creationTimestamp'));
  return Number.isNaN(created) ? '<unknown>' : humanDuration(now - created);
};
const orNone = (value: string): string => value || '<none>';

/** The rows of `list`: FlinkDeployments and FlinkSessionJobs together, by namespace and name. */
export function listTable(
  resources: readonly Json[],
  options: { now: number; wide: boolean; allNamespaces: boolean },
): Table {
  const headers = ['NAME', 'KIND', 'MODE', 'FLINK', 'JOB', 'LIFECYCLE', 'AGE'];
  if (options.wide) headers.push('JOB ID', 'RECONCILIATION', 'SESSION');
  if (options.allNamespaces) headers.unshift('NAMESPACE');
  const sorted = [...resources].sort((a, b) =>
    `${text(a, 'metadata', 'namespace')}/${text(a, 'metadata', 'name')}`.localeCompare(
      `${text(b, 'metadata', 'namespace')}/${text(b, 'metadata', 'name')}`,
    ),
  );
  const rows = sorted.map((r) => {
    const deployment = r.kind === 'FlinkDeployment';
    const row = [
      text(r, 'metadata', 'name'),
      deployment ? 'FlinkDeployment' : 'FlinkSessionJob',
      deployment
        ? `${text(r, 'spec', 'mode') || 'native'}/${at(r, 'spec', 'job') ? 'application' : 'session'}`
        : 'session-job',
      deployment ? orNone(text(r, 'spec', 'flinkVersion')) : '',
      orNone(text(r, 'status', 'jobStatus', 'state')),
      orNone(text(r, 'status', 'lifecycleState')),
      age(r, options.now),
    ];
    if (options.wide)
      row.push(
        orNone(text(r, 'status', 'jobStatus', 'jobId')),
        orNone(text(r, 'status', 'reconciliationStatus', 'state')),
        deployment ? '' : text(r, 'spec', 'deploymentName'),
      );
    if (options.allNamespaces) row.unshift(text(r, 'metadata', 'namespace'));
    return row;
  });
  return { headers, rows };
}

/** Where a user reaches the Flink UI: the ingress template's address, else the REST Service inside the cluster. */
export function flinkUiUrl(deployment: Json | undefined): string | undefined {
  if (!deployment) return undefined;
  const name = text(deployment, 'metadata', 'name');
  const namespace = text(deployment, 'metadata', 'namespace');
  const template = text(deployment, 'spec', 'ingress', 'template');
  if (template) {
    const host = template.replaceAll('{{name}}', name).replaceAll('{{namespace}}', namespace);
    return /^https?:\/\//.test(host) ? host : `http://${host}`;
  }
  return `http://${name}-rest.${namespace}:8081 (inside the cluster; kubectl port-forward svc/${name}-rest 8081)`;
}

export interface StatusFacts {
  resource: Json;
  /** The session cluster of a FlinkSessionJob (its UI and JobManager). */
  session?: Json;
  /** The newest completed savepoint FlinkStateSnapshot of the job, if any. */
  lastSnapshot?: Json;
  events: readonly Json[];
  now: number;
}

/** `status NAME` on one screen. */
export function statusLines(facts: StatusFacts): string[] {
  const { resource: r, now } = facts;
  const deployment = r.kind === 'FlinkDeployment';
  const cluster = deployment ? r : facts.session;
  const lines: [string, string][] = [
    [
      'Name',
      `${text(r, 'metadata', 'name')} (${deployment ? 'FlinkDeployment' : `FlinkSessionJob on ${text(r, 'spec', 'deploymentName')}`}, namespace ${text(r, 'metadata', 'namespace')})`,
    ],
    ['Lifecycle', orNone(text(r, 'status', 'lifecycleState'))],
  ];
  if (!deployment || at(r, 'spec', 'job')) {
    const started = Number(text(r, 'status', 'jobStatus', 'startTime'));
    const since = started > 0 ? ` (started ${humanDuration(now - started)} ago)` : '';
    lines.push([
      'Job',
      `${orNone(text(r, 'status', 'jobStatus', 'state'))}${text(r, 'status', 'jobStatus', 'jobId') ? `  ${text(r, 'status', 'jobStatus', 'jobId')}` : ''}${since}`,
    ]);
    lines.push([
      'Desired',
      `${text(r, 'spec', 'job', 'state') || 'running'}, upgrade mode ${text(r, 'spec', 'job', 'upgradeMode') || 'stateless'}`,
    ]);
  }
  if (cluster) lines.push(['JobManager', orNone(text(cluster, 'status', 'jobManagerDeploymentStatus'))]);
  const generation = text(r, 'metadata', 'generation');
  const observed = text(r, 'status', 'observedGeneration');
  lines.push([
    'Reconciliation',
    `${orNone(text(r, 'status', 'reconciliationStatus', 'state'))}${observed ? ` (generation ${observed} of ${generation} reconciled)` : ''}`,
  ]);
  lines.push(['Last savepoint', lastSavepoint(facts)]);
  const error = errorLine(text(r, 'status', 'error'));
  if (error) lines.push(['Error', error]);
  const ui = flinkUiUrl(cluster);
  if (ui) lines.push(['Flink UI', ui]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 3;
  const out = lines.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`);
  out.push('Events:');
  const events = [...facts.events].sort((a, b) => eventTime(a) - eventTime(b)).slice(-10);
  if (events.length === 0) out.push('  <none>');
  else {
    const table = formatTable({
      headers: ['TYPE', 'REASON', 'AGE', 'MESSAGE'],
      rows: events.map((e) => [
        text(e, 'type'),
        text(e, 'reason'),
        humanDuration(now - eventTime(e)),
        firstLine(text(e, 'message')),
      ]),
    });
    out.push(...table.map((l) => `  ${l}`));
  }
  return out;
}

function lastSavepoint(facts: StatusFacts): string {
  const snapshot = facts.lastSnapshot;
  if (snapshot) {
    const when = Date.parse(text(snapshot, 'status', 'resultTimestamp'));
    const trigger = text(snapshot, 'metadata', 'labels', 'snapshot.trigger-type') || 'MANUAL';
    return `${text(snapshot, 'status', 'path')} (${Number.isNaN(when) ? '' : `${humanDuration(facts.now - when)} ago, `}${trigger}, FlinkStateSnapshot ${text(snapshot, 'metadata', 'name')})`;
  }
  const legacy = at(facts.resource, 'status', 'jobStatus', 'savepointInfo', 'lastSavepoint');
  if (legacy && text(legacy, 'location')) {
    const when = Number(text(legacy, 'timeStamp'));
    return `${text(legacy, 'location')} (${when > 0 ? `${humanDuration(facts.now - when)} ago, ` : ''}${text(legacy, 'triggerType') || 'UNKNOWN'})`;
  }
  return '<none>';
}

/** `status.error` is upstream's JSON document `{"type", "message", …}`, or plain text: its message's first line. */
export function errorLine(error: string): string {
  if (!error) return '';
  return firstLine(asString(errorDocumentOf(error)?.message) ?? error);
}

/** Upstream's `status.error` document `{"type", "message", …}`; undefined for plain text or anything else. */
function errorDocumentOf(error: unknown): Json | undefined {
  if (typeof error !== 'string') return undefined;
  try {
    return asObject(JSON.parse(error));
  } catch {
    return undefined;
  }
}

const firstLine = (s: string): string => {
  const line = s.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
};
const eventTime = (e: Json): number =>
  Date.parse(text(e, 'lastTimestamp') || text(e, 'eventTime') || text(e, 'metadata', 'creationTimestamp')) || 0;

/**
 * What a resource's status means for `status` (exit 1 on FAILED or ROLLED_BACK) and for `status --watch`, which ends
 * once the resource has settled where its spec asks: STABLE when it should run; SUSPENDED with its cluster gone when
 * the spec suspends it (exit 0); FAILED, ROLLED_BACK, or a spec the operator refused (exit 1). A state from before the
 * operator took up the current spec (observedGeneration behind generation) settles nothing.
 */
export function statusVerdict(resource: Json): { exitCode: 0 | 1; final: boolean } {
  const status = asObject(resource.status);
  const lifecycle = status?.lifecycleState;
  const exitCode = lifecycle === 'FAILED' || lifecycle === 'ROLLED_BACK' ? 1 : 0;
  const generation = asInteger(asObject(resource.metadata)?.generation);
  const observed = asInteger(status?.observedGeneration);
  // The operator keeps running the last valid spec and records the refusal without taking the new generation up.
  if (generation !== undefined && observed !== undefined && observed < generation)
    return asString(errorDocumentOf(status?.error)?.type) === VALIDATION_ERROR_TYPE
      ? { exitCode: 1, final: true }
      : { exitCode, final: false };
  if (exitCode === 1) return { exitCode, final: true };
  if (asObject(asObject(resource.spec)?.job)?.state !== 'suspended') return { exitCode, final: lifecycle === 'STABLE' };
  const clusterGone =
    resource.kind === 'FlinkSessionJob' || (status?.jobManagerDeploymentStatus ?? 'MISSING') === 'MISSING';
  return { exitCode, final: lifecycle === 'SUSPENDED' && clusterGone };
}

/** A table in kubectl's own style: upper-case headers, columns padded with three spaces, no borders. */
export function formatTable(table: Table): string[] {
  const widths = table.headers.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join('')
      .trimEnd();
  return [line(table.headers), ...table.rows.map(line)];
}
