// The Flink REST calls the reconciler makes (notes §8.2), each with a timeout. Where a cluster's REST API is:
// `http://<name>-rest.<namespace>:8081` in a cluster, unless the `--flink-rest-overrides` file names another
// address for it (the local stack, development, benchmarks); the file is re-read whenever it changes.
import type { AggregatedMetric } from '../api/autoscaler/sample.js';
import { openAsBlob, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { FlinkJob, FlinkJobState, JobFailure } from '../api/reconcile/observe.js';
import type { SubmitRequest } from '../api/reconcile/session-job.js';
import type { StopJob } from '../api/reconcile/context.js';
import type { SnapshotKind, SnapshotProgress } from '../api/reconcile/snapshots.js';
import { REST_PORT, restServiceName } from '../api/cluster/objects.js';
import { withDeadline } from './deadline.js';

export class FlinkRestError extends Error {
  constructor(
    message: string,
    /** The HTTP status Flink answered, when it answered. */
    readonly status?: number,
    /** Flink's own error text, as far as it was read. */
    readonly detail = '',
  ) {
    super(message);
  }
}

/** The largest answer read from a JobManager (which runs a user's image and may answer anything). */
export const MAX_FLINK_ANSWER_BYTES = 16 * 2 ** 20;

export class RestAddresses {
  /** The file is replaced by rename; two replacements within one clock tick of the file system share an mtime. */
  private cache: { version: string; readAt: number; entries: Record<string, string> } | undefined;

  constructor(private readonly overridesFile: string | undefined) {}

  url(namespace: string, name: string): string {
    return this.overrides()[`${namespace}/${name}`] ?? `http://${restServiceName(name)}.${namespace}:${REST_PORT}`;
  }

  /** Re-read when the file changed (inode, size, mtime) or, as those can repeat, at least once a second. */
  private overrides(): Record<string, string> {
    if (!this.overridesFile) return {};
    let version: string;
    try {
      const stat = statSync(this.overridesFile);
      version = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return {}; // not written yet
    }
    const now = Date.now();
    if (this.cache?.version !== version || now - this.cache.readAt >= 1000) {
      try {
        this.cache = {
          version,
          readAt: now,
          entries: JSON.parse(readFileSync(this.overridesFile, 'utf8')) as Record<string, string>,
        };
      } catch {
        return this.cache?.entries ?? {}; // replaced under us: keep the last good one until the next change
      }
    }
    return this.cache.entries;
  }
}

/** What a JobManager's `/config` says of the Flink it runs. */
export interface FlinkVersion {
  flinkVersion?: string;
  flinkRevision?: string;
}

interface Overview {
  jobs: {
    jid: string;
    name: string;
    state: FlinkJobState;
    'start-time': number;
    tasks?: { running?: number; total?: number };
  }[];
}

interface AsyncOperation {
  status: { id: 'IN_PROGRESS' | 'COMPLETED' };
  operation?: {
    location?: string;
    checkpointId?: number;
    'failure-cause'?: { class?: string; 'stack-trace'?: string };
  };
}

interface CheckpointRef {
  id: number;
  external_path?: string;
}

export type ResourceRequirements = Record<string, { parallelism: { lowerBound: number; upperBound: number } }>;

export class FlinkRestClient {
  /** `timeoutMs` bounds each call, connection to last byte; `signal` aborts every call (leadership lost, shutdown). */
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
    private readonly signal?: AbortSignal,
  ) {}

  async config(): Promise<FlinkVersion> {
    const body = await this.json<{ 'flink-version'?: string; 'flink-revision'?: string }>('GET', '/config');
    return { flinkVersion: body['flink-version'], flinkRevision: body['flink-revision'] };
  }

  async jobs(): Promise<FlinkJob[]> {
    const { jobs } = await this.json<Overview>('GET', '/jobs/overview');
    return jobs.map((j) => ({
      id: j.jid,
      name: j.name,
      state: j.state,
      startTime: j['start-time'],
      allTasksRunning: (j.tasks?.total ?? 0) > 0 && j.tasks?.running === j.tasks?.total,
    }));
  }

  /** `GET /jobs/:id`: the job's vertices, their parallelism and IO counters, and its plan (the edges). */
  jobDetails(jobId: string): Promise<Record<string, unknown>> {
    return this.json('GET', `/jobs/${encodeURIComponent(jobId)}`);
  }

  /**
   * A vertex's subtask-aggregated metrics: with `names`, their values (`min, max, avg, sum`); without, the names it
   * has. Flink answers `[{id, …}]`.
   */
  vertexMetrics(jobId: string, vertexId: string, names?: string[]): Promise<AggregatedMetric[]> {
    const query = names ? `?get=${names.map(encodeURIComponent).join(',')}` : '';
    return this.json(
      'GET',
      `/jobs/${encodeURIComponent(jobId)}/vertices/${encodeURIComponent(vertexId)}/subtasks/metrics${query}`,
    );
  }

  /** `GET /jobmanager/metrics?get=…`: `[{id, value}]`. */
  jobManagerMetrics(names: string[]): Promise<{ id: string; value: string }[]> {
    return this.json('GET', `/jobmanager/metrics?get=${names.map(encodeURIComponent).join(',')}`);
  }

  /** `GET /taskmanagers/metrics?get=…&agg=max`: empty when any name is unknown to every TaskManager. */
  taskManagerMetrics(names: string[]): Promise<AggregatedMetric[]> {
    return this.json('GET', `/taskmanagers/metrics?get=${names.map(encodeURIComponent).join(',')}&agg=max`);
  }

  /** The adaptive scheduler's per-vertex parallelism bounds: `{vid: {parallelism: {lowerBound, upperBound}}}`. */
  resourceRequirements(jobId: string): Promise<ResourceRequirements> {
    return this.json('GET', `/jobs/${encodeURIComponent(jobId)}/resource-requirements`);
  }

  async setResourceRequirements(jobId: string, requirements: ResourceRequirements): Promise<void> {
    await this.json('PUT', `/jobs/${encodeURIComponent(jobId)}/resource-requirements`, requirements);
  }

  /** Why a job failed: its root exception (class and first line), as Flink's exception history reports it. */
  async failure(jobId: string): Promise<JobFailure> {
    return this.failureCause(jobId).catch(() => ({
      type: 'org.apache.flink.runtime.JobException',
      message: 'The job failed; Flink did not say why',
    }));
  }

  private async failureCause(jobId: string): Promise<JobFailure> {
    try {
      const result = await this.json<{
        'job-execution-result'?: { 'failure-cause'?: { class?: string; 'stack-trace'?: string } };
      }>('GET', `/jobs/${jobId}/execution-result`);
      const cause = result['job-execution-result']?.['failure-cause'];
      if (cause?.['stack-trace']) return throwable(cause['stack-trace'], cause.class);
    } catch {
      // The result of an application whose main failed is not served (500); the exception history is.
    }
    const history = await this.json<{
      'root-exception'?: string;
      exceptionHistory?: { entries?: { exceptionName?: string; stacktrace?: string }[] };
    }>('GET', `/jobs/${jobId}/exceptions`);
    const entry = history.exceptionHistory?.entries?.[0];
    const trace = entry?.stacktrace ?? history['root-exception'];
    return trace
      ? throwable(trace, entry?.exceptionName)
      : { type: 'org.apache.flink.runtime.JobException', message: 'The job failed; Flink reported no cause' };
  }

  /**
   * Stops a job the way an upgrade mode needs, and gives the snapshot to restore from: a savepoint's location; after
   * a cancel (or of a job that already ended) its newest checkpoint when `restorePoint` asks for one. An unknown
   * restore point is an error (retried with backoff), never an older snapshot or none.
   */
  async stop(how: StopJob, deadlineMs: number): Promise<string | undefined> {
    const { jobId } = how;
    if (how.mechanism === 'savepoint') return this.stopWithSavepoint(jobId, how.drain, deadlineMs);
    if (how.mechanism === 'cancel') await this.cancel(jobId, deadlineMs);
    if (!how.restorePoint) return undefined;
    await this.pause(how.checkpointStatsTtlMs); // outlive any answer Flink cached while the job still ran
    return this.latestCheckpoint(jobId).catch((err: Error) => {
      throw new FlinkRestError(
        `cannot tell the newest checkpoint of job ${jobId} to restore from, so the upgrade waits: ${err.message}`,
      );
    });
  }

  /**
   * Triggers a savepoint (into the configured directory, the job keeps running) or a full checkpoint under the
   * operator's trigger id, so the same snapshot can be asked about — or asked for again — after a restart.
   */
  async triggerSnapshot(
    kind: SnapshotKind,
    jobId: string,
    triggerId: string,
    savepoint: { path?: string; formatType?: string } = {},
  ): Promise<void> {
    const body =
      kind === 'savepoint'
        ? {
            'cancel-job': false,
            formatType: savepoint.formatType ?? 'CANONICAL',
            triggerId,
            ...(savepoint.path ? { 'target-directory': savepoint.path } : {}),
          }
        : { checkpointType: 'FULL', triggerId };
    await this.json('POST', `/jobs/${jobId}/${kind}s`, body);
  }

  /** What Flink says of a snapshot it was asked for; `unknown` when it has no operation under that trigger id. */
  async snapshotProgress(kind: SnapshotKind, jobId: string, triggerId: string): Promise<SnapshotProgress> {
    let result: AsyncOperation;
    try {
      result = await this.json<AsyncOperation>('GET', `/jobs/${jobId}/${kind}s/${triggerId}`);
    } catch (err) {
      if (err instanceof FlinkRestError && err.status === 404) return { kind, triggerId, state: 'unknown' };
      throw err;
    }
    if (result.status.id !== 'COMPLETED') return { kind, triggerId, state: 'pending' };
    const failure = result.operation?.['failure-cause'];
    if (failure)
      return {
        kind,
        triggerId,
        state: 'failed',
        reason: oneLine(throwable(failure['stack-trace'] ?? '', failure.class)),
      };
    const location = result.operation?.location ?? (await this.checkpointPath(jobId, result.operation?.checkpointId));
    return { kind, triggerId, state: 'completed', ...(location ? { location } : {}) };
  }

  /** Where a completed checkpoint is (Flink answers a checkpoint trigger with its id only). */
  private async checkpointPath(jobId: string, checkpointId: number | undefined): Promise<string | undefined> {
    if (checkpointId === undefined) return undefined;
    const details = await this.json<CheckpointRef>('GET', `/jobs/${jobId}/checkpoints/details/${checkpointId}`);
    return details.external_path;
  }

  /** `POST /savepoint-disposal`: Flink deletes the savepoint's files (asynchronously). */
  async disposeSavepoint(path: string): Promise<void> {
    await this.json('POST', '/savepoint-disposal', { 'savepoint-path': path });
  }

  /** Stop-with-savepoint into the configured savepoint directory; resolves with the savepoint's location. */
  async stopWithSavepoint(jobId: string, drain: boolean, deadlineMs: number): Promise<string> {
    const { 'request-id': trigger } = await this.json<{ 'request-id': string }>('POST', `/jobs/${jobId}/stop`, {
      drain,
      formatType: 'CANONICAL',
    });
    while (Date.now() < deadlineMs) {
      const result = await this.json<AsyncOperation>('GET', `/jobs/${jobId}/savepoints/${trigger}`);
      if (result.status.id === 'COMPLETED') {
        const failure = result.operation?.['failure-cause'];
        if (failure || !result.operation?.location) {
          throw new FlinkRestError(
            `the savepoint of job ${jobId} failed: ${failure ? oneLine(throwable(failure['stack-trace'] ?? '', failure.class)) : 'no location'}`,
          );
        }
        return result.operation.location;
      }
      await this.pause(500);
    }
    throw new FlinkRestError(`the savepoint of job ${jobId} did not complete in time`);
  }

  /** Cancels and waits until Flink reports the job terminal; an unknown or finished job counts as cancelled. */
  async cancel(jobId: string, deadlineMs: number): Promise<void> {
    const status = await this.status('PATCH', `/jobs/${jobId}?mode=cancel`);
    if (status !== 202 && status !== 404 && status !== 409) {
      throw new FlinkRestError(`cancelling job ${jobId}: HTTP ${status}`);
    }
    while (Date.now() < deadlineMs) {
      const job = (await this.jobs()).find((j) => j.id === jobId);
      if (!job || ['CANCELED', 'FINISHED', 'FAILED'].includes(job.state)) return;
      await this.pause(250);
    }
    throw new FlinkRestError(`job ${jobId} did not stop in time`);
  }

  /**
   * The newest retained checkpoint or savepoint of a job (the highest id Flink knows); undefined only when Flink
   * says there is none. A failed lookup throws: an unknown restore point must never become an older one.
   */
  async latestCheckpoint(jobId: string): Promise<string | undefined> {
    const stats = await this.json<{
      latest?: { completed?: CheckpointRef; savepoint?: CheckpointRef; restored?: CheckpointRef };
    }>('GET', `/jobs/${jobId}/checkpoints`);
    const candidates = [stats.latest?.completed, stats.latest?.savepoint, stats.latest?.restored].filter(
      (c): c is CheckpointRef => Boolean(c?.external_path),
    );
    candidates.sort((a, b) => b.id - a.id);
    return candidates[0]?.external_path;
  }

  /** `POST /jars/upload`: the jar streamed from disk as multipart `jarfile`; its id on the session (the stored file's name). */
  async uploadJar(path: string, timeoutMs: number): Promise<string> {
    const form = new FormData();
    form.append('jarfile', await openAsBlob(path, { type: 'application/x-java-archive' }), basename(path));
    const { filename } = await this.json<{ filename?: string }>('POST', '/jars/upload', form, timeoutMs);
    if (!filename) throw new FlinkRestError('Flink REST POST /jars/upload: no filename in the answer');
    return basename(filename);
  }

  /**
   * `POST /jars/:id/run` with the operator's job id. A job already submitted under that id (Flink refuses a
   * duplicate) counts as this submission: a retried run never makes a second job.
   */
  async runJar(jarId: string, run: Omit<SubmitRequest, 'jarURI' | 'jarHeaders'>, timeoutMs?: number): Promise<string> {
    const { flinkConfiguration } = run;
    const body = {
      jobId: run.jobId,
      programArgsList: run.args,
      ...(run.entryClass ? { entryClass: run.entryClass } : {}),
      ...(run.parallelism ? { parallelism: run.parallelism } : {}),
      ...(run.savepointPath
        ? { savepointPath: run.savepointPath, allowNonRestoredState: run.allowNonRestoredState ?? false }
        : {}),
      ...(Object.keys(flinkConfiguration).length > 0 ? { flinkConfiguration } : {}),
    };
    try {
      return (await this.json<{ jobid: string }>('POST', `/jars/${encodeURIComponent(jarId)}/run`, body, timeoutMs))
        .jobid;
    } catch (err) {
      if (err instanceof FlinkRestError && /DuplicateJobSubmission|already been submitted/i.test(err.detail))
        return run.jobId;
      throw err;
    }
  }

  /** `DELETE /jars/:id`; a jar already gone is fine. */
  async deleteJar(jarId: string): Promise<void> {
    const status = await this.status('DELETE', `/jars/${encodeURIComponent(jarId)}`);
    if ((status < 200 || status > 299) && status !== 404)
      throw new FlinkRestError(`Flink REST DELETE /jars/${jarId}: HTTP ${status}`, status);
  }

  private async pause(ms: number): Promise<void> {
    this.signal?.throwIfAborted();
    await sleep(ms);
    this.signal?.throwIfAborted();
  }

  /** One call, connection to last byte read by `read`, under the client's deadline and abort signal. */
  private async exchange<T>(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    const payload =
      body === undefined
        ? {}
        : body instanceof FormData
          ? { body }
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    return withDeadline(timeoutMs, this.signal, async (signal) => {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, { method, signal, ...payload });
      } catch (err) {
        // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is its cause.
        const cause = (err as { cause?: { message?: string } }).cause;
        throw new FlinkRestError(
          `Flink REST ${method} ${this.baseUrl}${path}: ${cause?.message ?? (err as Error).message}`,
        );
      }
      return read(response);
    });
  }

  /** A call whose answer matters only by its status. */
  private async status(method: string, path: string): Promise<number> {
    return this.exchange(method, path, undefined, this.timeoutMs, async (response) => {
      await response.body?.cancel().catch(() => undefined);
      return response.status;
    });
  }

  private async json<T>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const what = `Flink REST ${method} ${path}`;
    return this.exchange(method, path, body, timeoutMs, async (response) => {
      if (!response.ok) {
        const detail = await readCapped(response, what).catch(() => '');
        const reason = flinkErrorLine(detail);
        throw new FlinkRestError(
          `${what}: HTTP ${response.status}${reason ? `: ${reason}` : ''}`,
          response.status,
          detail,
        );
      }
      const text = await readCapped(response, what);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new FlinkRestError(`${what}: the answer is not JSON`);
      }
    });
  }
}

/** The body as text, refused past MAX_FLINK_ANSWER_BYTES; the request's deadline covers the reading too. */
async function readCapped(response: Response, what: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_FLINK_ANSWER_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw new FlinkRestError(`${what}: the answer exceeds ${MAX_FLINK_ANSWER_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof FlinkRestError) throw err;
    throw new FlinkRestError(`${what}: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The root cause in Flink's `{"errors": [...]}` (its last `Caused by:`, else its first line), at most 300 characters. */
function flinkErrorLine(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: unknown[] }).errors;
    const lines = (typeof errors?.[0] === 'string' ? errors[0] : '').split('\n');
    const cause =
      lines
        .filter((l) => l.startsWith('Caused by: '))
        .pop()
        ?.slice('Caused by: '.length) ??
      lines[0] ??
      '';
    return cause.trim().slice(0, 300);
  } catch {
    return '';
  }
}

/** `org.Foo: message\n\tat …\nCaused by: org.Bar: why` → its class and first line, and each cause's. */
function throwable(trace: string, className: string | undefined): JobFailure {
  const parse = (line: string) => {
    const match = /^([\w.$]+)(?::\s*(.*))?$/.exec(line.trim());
    return { type: match?.[1] ?? 'java.lang.Throwable', message: (match?.[2] ?? line).trim() };
  };
  const lines = trace.split('\n');
  const head = parse(lines[0] ?? '');
  const causes = lines.filter((l) => l.startsWith('Caused by: ')).map((l) => parse(l.slice('Caused by: '.length)));
  return {
    type: className ?? head.type,
    message: head.message,
    ...(causes.length > 0 ? { throwableList: causes } : {}),
  };
}

/** A failure in one line: Flink's message and, when it wraps others, the root cause (what a user can act on). */
function oneLine(failure: JobFailure): string {
  const root = failure.throwableList?.at(-1);
  return root && root.message !== failure.message
    ? `${failure.message} (caused by ${root.type}: ${root.message})`
    : failure.message;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
