// What `kubectl flink autoscaler NAME` shows, without I/O: where the autoscaler is with the job, and per vertex the
// numbers its decision came from — the processing rate against the band it must fall outside of to act, the
// recommendation and why the vertex is or is not moving to it. Read from `status.autoscaler`, which the operator
// writes each cycle; nothing here recomputes a decision.
import type { AutoscalerStatus, AutoscalerVertexStatus } from '../types.generated.js';
import { asObject, type Json } from '../validation/access.js';
import { formatTable, humanDuration } from './views.js';

const rate = (x: number | undefined): string => (x === undefined ? '∞' : String(Math.round(x * 10) / 10));
const since = (iso: string | undefined, now: number) =>
  iso ? `${iso} (${humanDuration(Math.abs(now - Date.parse(iso)))} ${Date.parse(iso) > now ? 'from now' : 'ago'})` : '';

/** Why a vertex is where it is, in a sentence with its numbers. */
export function vertexReason(v: AutoscalerVertexStatus, now: number): string {
  const tpr = rate(v.trueProcessingRate);
  const band = `[${rate(v.scaleUpThreshold)}, ${rate(v.scaleDownThreshold)}]`;
  const move = v.recommended !== undefined && v.recommended !== v.parallelism;
  const aligned = v.unaligned !== undefined ? ` (${v.unaligned} aligned to ${v.recommended})` : '';
  const to = `${v.parallelism} → ${v.recommended}${aligned}, expected processing rate ${rate(v.expectedProcessingRate)}`;
  switch (v.blockedBy) {
    case undefined:
      return move ? `processing rate ${tpr} is outside ${band}: ${to}` : `runs at ${v.parallelism}`;
    case 'WithinBand':
      return `processing rate ${tpr} is within ${band}: nothing to do${move ? ` (would be ${v.recommended}, no vertex is outside its band)` : ''}`;
    case 'DelayedScaleDown':
      return `scale-down ${to} waits until ${since(v.blockedUntil, now)} (scale-down.interval)`;
    case 'DryRun':
      return `would rescale ${to} (dry run: job.autoscaler.scaling.enabled is false)`;
    case 'ExcludedPeriod':
      return `would rescale ${to} (now is in one of job.autoscaler.excluded.periods)`;
    case 'Ineffective':
      return `the last scale-up did not raise its processing rate: ${to} is blocked`;
    case 'AtLimit':
      return `processing rate ${tpr} is outside ${band}, but its limits keep it at ${v.parallelism}`;
    case 'MemoryPressure':
      return `no scaling while the TaskManagers are under memory pressure`;
    case 'Excluded':
      return `excluded (vertex.exclude.ids, or finished)`;
    case 'NoProcessingRate':
      return `no processing rate could be measured`;
    case 'MetricsIncomplete':
      return `no decision: this cycle's metrics were incomplete`;
    case 'WindowNotFull':
      return `collecting metrics`;
    case 'Stabilizing':
      return `the job is stabilizing`;
  }
}

export function autoscalerLines(resource: Json, now: number): string[] {
  const status = asObject(asObject(resource.status)?.autoscaler) as AutoscalerStatus | undefined;
  if (!status)
    return ['The autoscaler has not looked at this job (job.autoscaler.enabled is not true, or the job does not run).'];
  const lines = [`Autoscaler:   ${status.phase ?? '<unknown>'}`, `Decision:     ${status.message ?? ''}`];
  if (status.lastEvaluationTime) lines.push(`Evaluated:    ${since(status.lastEvaluationTime, now)}`);
  if (status.windowFullAt && status.phase !== 'Evaluated')
    lines.push(`Window full:  ${since(status.windowFullAt, now)}`);
  const rescale = status.rescale;
  if (rescale)
    lines.push(
      `Rescale:      ${rescale.parallelism ?? ''} ${rescale.fallback ? `by upgrade (${rescale.reason ?? ''})` : `in place, asked ${since(rescale.requestedAt, now)}`}`,
    );
  const vertices = status.vertices ?? [];
  if (vertices.length === 0) return lines;
  const rows = vertices.map((v) => [
    v.name ?? v.id ?? '',
    String(v.parallelism ?? ''),
    String(v.recommended ?? v.parallelism ?? ''),
    v.busyRatio === undefined ? '' : v.busyRatio.toFixed(2),
    rate(v.trueProcessingRate),
    v.targetRate === undefined ? '' : rate(v.targetRate),
    v.lag === undefined ? '' : String(v.lag),
    v.scaleUpThreshold === undefined ? '' : `${rate(v.scaleUpThreshold)} / ${rate(v.scaleDownThreshold)}`,
    v.blockedBy ?? '',
  ]);
  return [
    ...lines,
    '',
    ...formatTable({
      headers: [
        'VERTEX',
        'PARALLELISM',
        'RECOMMENDED',
        'BUSY',
        'RATE@100%',
        'TARGET RATE',
        'LAG',
        'UP / DOWN AT',
        'BLOCKED BY',
      ],
      rows,
    }),
    '',
    ...vertices.map((v) => `${v.name ?? v.id}: ${vertexReason(v, now)}`),
  ];
}
