// The autoscaler in the reconcile loop (reference §1.1, §1.10): its overrides join the spec acted on — never the
// user's object — its cycle runs while the job runs what is recorded, and a change of parallelism overrides alone
// is applied to the running job in place when its adaptive scheduler can take it, confirmed from what Flink runs,
// and otherwise (or when it does not take in time) by one upgrade in the job's upgrade mode.
import { autoscalerCycle } from '../../autoscaler/cycle.js';
import { autoscalerConfig, type AutoscalerConfig } from '../../autoscaler/options.js';
import type { JobView } from '../../autoscaler/sample.js';
import {
  decodeState,
  emptyState,
  encodeState,
  formatOverrides,
  OVERRIDES_KEY,
  parseOverrides,
  type AutoscalerState,
} from '../../autoscaler/state.js';
import { flattenConfig, parseDurationMs, type FlatConfig } from '../../flink-config.js';
import { dialect } from '../../flink-versions.js';
import { option, OPTIONS } from '../../operator-options.js';
import type { SpecEnvelope } from '../../spec-envelope.js';
import type { AutoscalerRescale, FlinkDeploymentStatus } from '../../types.generated.js';
import { asObject, asString, type Json } from '../../validation/access.js';
import { withLifecycle, type Plan, type PlanContext } from '../context.js';
import { reconciledJobState } from '../observe.js';
import { diffSpecs, type SpecDiff } from '../spec-diff.js';
import { planSpecChange } from './upgrade.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Runs the autoscaler's part of a pass: reads its state, clears it when disabled or reset, runs a cycle when one is
 * due and the job runs what is recorded, queues the state's write, and merges its overrides into `ctx.spec`.
 */
export function applyAutoscaler(ctx: PlanContext, last: SpecEnvelope | undefined): void {
  const c = autoscalerConfig(ctx.conf);
  const seen = ctx.input.observation.autoscaler;
  if (!seen) {
    // Not read this pass (no JobManager to ask): keep running what was recorded rather than guess.
    if (c.enabled && last) ctx.spec = withOverrides(ctx.spec, parseOverrides(configOf(last.spec)[OVERRIDES_KEY]), c);
    return;
  }
  const decoded = seen.stored ? decodeState(seen.stored.data) : { state: emptyState(), unread: [] };
  for (const unread of decoded.unread)
    ctx.events.push({ type: 'Warning', reason: 'AutoscalerError', message: `Autoscaler state dropped: ${unread}` });
  let state = decoded.state;
  const { autoscaler: previous, ...rest } = ctx.status;
  const rescale = previous?.rescale;
  if (!c.enabled) {
    state = emptyState();
    ctx.status = rescale ? { ...rest, autoscaler: { rescale } } : rest;
  } else if (last && resetRequested(ctx.spec, last.spec)) {
    state = emptyState();
    ctx.status = rescale ? { ...rest, autoscaler: { rescale } } : rest;
    ctx.events.push({ type: 'Normal', reason: 'AutoscalerReset', message: 'Autoscaler state and overrides reset' });
  } else if (last && seen.view && runsRecorded(ctx, last, state, c) && !rescale) {
    // A cycle that fails (a bug, a sample no one foresaw) is an event, never a stuck resource (upstream likewise).
    try {
      const ignored = ignoredBy(seen.view, state);
      if (ignored) {
        // Flink runs other parallelisms than the overrides it was deployed with (Flink 2.x application mode ignores
        // them on a restart, FLINK-38770): deciding again would restart the job again, for nothing. Said once.
        const message = `Flink does not run the parallelism overrides it was deployed with (${ignored}); no rescale until the autoscaler is reset. With jobmanager.scheduler: adaptive the job is rescaled in place (Flink 2.x application mode ignores the overrides on a restart, FLINK-38770)`;
        if (previous?.phase !== 'RescaleIgnored')
          ctx.events.push({ type: 'Warning', reason: 'RescaleNotApplied', message });
        ctx.status = { ...rest, autoscaler: { phase: 'RescaleIgnored', message } };
      } else if (seen.sample) {
        const result = autoscalerCycle({
          state,
          view: seen.view,
          sample: seen.sample,
          config: c,
          now: ctx.now,
          ...(previous ? { previous } : {}),
        });
        state = result.state;
        ctx.status = { ...rest, autoscaler: result.status };
        ctx.events.push(...result.events);
      }
    } catch (err) {
      ctx.events.push({
        type: 'Warning',
        reason: 'AutoscalerError',
        message: `Autoscaler cycle failed: ${(err as Error).message}`,
      });
    }
  }
  const data = encodeState(state);
  if (seen.stored ? !sameData(seen.stored.data, data) : hasContent(state))
    ctx.actions.push({ kind: 'save-autoscaler-state', data, resourceVersion: seen.stored?.resourceVersion });
  ctx.spec = withOverrides(ctx.spec, state.overrides, c);
}

/** The vertices Flink runs at other parallelisms than the overrides, as `name: runs → asked`, if any. */
function ignoredBy(view: JobView, state: AutoscalerState): string | undefined {
  const off = view.topology.vertices.filter(
    (v) => state.overrides[v.id] !== undefined && state.overrides[v.id] !== v.parallelism,
  );
  return off.length > 0
    ? off.map((v) => `${v.name}: ${v.parallelism}, not ${state.overrides[v.id]}`).join('; ')
    : undefined;
}

/** The job runs the recorded spec, stably: what a cycle's samples describe. */
function runsRecorded(ctx: PlanContext, last: SpecEnvelope, state: AutoscalerState, c: AutoscalerConfig): boolean {
  const rs = ctx.status.reconciliationStatus;
  return (
    rs?.state === 'DEPLOYED' &&
    ctx.status.jobStatus?.state === 'RUNNING' &&
    reconciledJobState(ctx.status) === 'running' &&
    diffSpecs(last.spec, withOverrides(ctx.spec, state.overrides, c)).type === 'IGNORE'
  );
}

/** A new, non-null autoscalerResetNonce (FLINK-36640). */
function resetRequested(spec: Json, last: Json): boolean {
  const now = asObject(spec.job)?.autoscalerResetNonce;
  return now !== undefined && now !== null && now !== asObject(last.job)?.autoscalerResetNonce;
}

const configOf = (spec: Json): FlatConfig => flattenConfig(spec.flinkConfiguration);

/**
 * The spec with the autoscaler's overrides: they win over the user's, except for vertices excluded from scaling,
 * where the user's own override stays (FLINK-33027). No overrides: the user's spec as it is.
 */
export function withOverrides(spec: Json, overrides: Record<string, number>, c: AutoscalerConfig): Json {
  if (Object.keys(overrides).length === 0) return spec;
  const excluded = new Set((c.excludedVertices ?? '').split(',').map((s) => s.trim()));
  const own = parseOverrides(configOf(spec)[OVERRIDES_KEY]);
  const merged = { ...own };
  for (const [id, p] of Object.entries(overrides)) if (!(excluded.has(id) && id in own)) merged[id] = p;
  // The user's configuration keeps its shape (nested or flat): only the one key is set.
  return {
    ...spec,
    flinkConfiguration: { ...asObject(spec.flinkConfiguration), [OVERRIDES_KEY]: formatOverrides(merged) },
  };
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? '') === (b[k] ?? ''));
}

const hasContent = (s: AutoscalerState) =>
  s.samples.length > 0 || Object.keys(s.overrides).length > 0 || Object.keys(s.history.scalingHistory).length > 0;

/**
 * Whether a change of parallelism overrides alone can be applied to the running job (upstream NativeFlinkService
 * #scale): in-place scaling on, native mode, Flink 1.18+ with the adaptive scheduler, and a job that runs.
 */
export function rescalesInPlace(ctx: PlanContext): boolean {
  return (
    option(ctx.conf, OPTIONS.inPlaceScaling) &&
    ctx.spec.mode !== 'standalone' &&
    asObject(ctx.spec.job) !== undefined &&
    asObject(ctx.spec.job)?.state !== 'suspended' &&
    dialect(asString(ctx.spec.flinkVersion)).rescalesInPlace &&
    (ctx.conf['jobmanager.scheduler'] ?? '').trim().toLowerCase() === 'adaptive' &&
    reconciledJobState(ctx.status) === 'running' &&
    ctx.status.jobStatus?.state === 'RUNNING' &&
    ctx.status.jobStatus.jobId !== undefined
  );
}

/**
 * How long the adaptive scheduler may take to act on new requirements: its cooldown after a rescale, its wait for
 * resources to stabilise and its wait for a checkpoint to rescale at (Flink 2.x), and a margin.
 */
export function rescaleDeadlineMs(conf: FlatConfig): number {
  const read = (keys: string[], fallback: number) => {
    for (const key of keys) {
      const ms = conf[key] !== undefined ? parseDurationMs(conf[key]) : undefined;
      if (ms !== undefined) return ms;
    }
    return fallback;
  };
  const cooldown = read(
    [
      'jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling',
      'jobmanager.adaptive-scheduler.scaling-interval.min',
    ],
    30_000,
  );
  const stabilization = read(
    [
      'jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout',
      'jobmanager.adaptive-scheduler.scaling-interval.max',
    ],
    60_000,
  );
  const checkpoint = read(['execution.checkpointing.interval'], 0);
  const trigger = read(['jobmanager.adaptive-scheduler.rescale-trigger.max-delay'], 3 * checkpoint);
  return cooldown + stabilization + trigger + 60_000;
}

/** What each vertex is to run at: the overrides, and for an override removed, the job's own parallelism. */
function targetParallelism(spec: Json, last: Json): Record<string, number> {
  const target = parseOverrides(configOf(spec)[OVERRIDES_KEY]);
  const jobParallelism = Number(asObject(spec.job)?.parallelism ?? configOf(spec)['parallelism.default'] ?? 1);
  for (const id of Object.keys(parseOverrides(configOf(last)[OVERRIDES_KEY])))
    if (!(id in target)) target[id] = jobParallelism;
  return target;
}

export function planInPlaceScale(ctx: PlanContext, last: SpecEnvelope, diff: SpecDiff): Plan {
  const target = targetParallelism(ctx.spec, last.spec);
  const wanted = formatOverrides(target);
  const view = ctx.input.observation.autoscaler?.view;
  const pending = ctx.status.autoscaler?.rescale;
  const withRescale = (rescale: AutoscalerRescale | undefined): FlinkDeploymentStatus => {
    const { rescale: _, ...autoscaler } = ctx.status.autoscaler ?? {};
    const next = rescale ? { ...autoscaler, rescale } : autoscaler;
    return { ...ctx.status, ...(Object.keys(next).length > 0 ? { autoscaler: next } : {}) };
  };
  const running = (id: string) => view?.topology.vertices.find((v) => v.id === id)?.parallelism;
  if (view && Object.entries(target).every(([id, p]) => running(id) === p || running(id) === undefined)) {
    const rs = ctx.status.reconciliationStatus;
    const wasStable = rs?.lastStableSpec === rs?.lastReconciledSpec;
    const { autoscaler: _, ...withoutAutoscaler } = ctx.status;
    const cleared = withRescale(undefined);
    ctx.status = ctx.record(cleared.autoscaler ? cleared : withoutAutoscaler, ctx.spec, false, 'running');
    if (wasStable)
      ctx.status.reconciliationStatus!.lastStableSpec = ctx.status.reconciliationStatus!.lastReconciledSpec;
    const changes = Object.entries(target)
      .map(([id, p]) => `${view.topology.vertices.find((v) => v.id === id)?.name ?? id}: ${p}`)
      .join(', ');
    return ctx.plan({
      events: [{ type: 'Normal', reason: 'Scaling', message: `In-place scaling applied (${changes})` }],
    });
  }
  if (pending?.fallback && pending.parallelism === wanted) return planSpecChange(ctx, last, diff);
  if (!pending || pending.parallelism !== wanted) {
    if (!view) return ctx.plan({ requeueAfterMs: 2000 });
    const requested = { parallelism: wanted, requestedAt: iso(ctx.now) };
    ctx.status = withRescale(requested);
    const refused = (reason: string) => withLifecycle(withRescale({ ...requested, fallback: true, reason }));
    return ctx.plan({
      events: [{ type: 'Normal', reason: 'Scaling', message: `In-place scaling triggered (${wanted})` }],
      actions: [
        {
          kind: 'rescale-in-place',
          jobId: ctx.status.jobStatus!.jobId!,
          parallelism: target,
          statusIfRefused: refused,
        },
      ],
      requeueAfterMs: 2000,
    });
  }
  const deadline = Date.parse(pending.requestedAt ?? '') + rescaleDeadlineMs(ctx.conf);
  if (ctx.now < deadline) return ctx.plan({ requeueAfterMs: 2000 });
  const reason = `the job did not run at ${wanted} within ${Math.round(rescaleDeadlineMs(ctx.conf) / 1000)} s`;
  ctx.status = withRescale({ ...pending, fallback: true, reason });
  ctx.events.push({
    type: 'Warning',
    reason: 'RescaleNotApplied',
    message: `In-place scaling not applied: ${reason}; upgrading the job with the new parallelism instead`,
  });
  return planSpecChange(ctx, last, diff);
}

/** A finished rescale (in place or by upgrade) leaves nothing pending. */
export function clearSettledRescale(ctx: PlanContext): void {
  if (!ctx.status.autoscaler?.rescale) return;
  const { rescale: _, ...autoscaler } = ctx.status.autoscaler;
  const { autoscaler: __, ...rest } = ctx.status;
  ctx.status = Object.keys(autoscaler).length > 0 ? { ...rest, autoscaler } : rest;
}
