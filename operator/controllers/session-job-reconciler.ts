// One reconcile of one FlinkSessionJob: find its session cluster (from the cache of FlinkDeployments) and what runs
// on it, let the pure planner decide (api/reconcile/session-job.ts), then write the status, emit the events and
// carry out the actions — fetch, upload and run the jar, or stop the job.
import {
  planSessionJob,
  SESSION_JOB_FINALIZER,
  type SessionJobAction,
  type SessionJobPlan,
  type SessionJobObservation,
  type SessionJobResource,
  type SessionState,
  type SubmitRequest,
} from '../../api/reconcile/session-job.js';
import { FLINK_SESSION_JOB } from '../../api/schema/crd.js';
import type { Json } from '../../api/validation/access.js';
import type { FetchedJar, JarFetcher } from '../artifacts/jar-fetcher.js';
import { FlinkRestClient } from '../flink-rest.js';
import { failedStepStatus } from '../../api/reconcile/context.js';
import {
  FlinkResourceReconciler,
  type OwnAction,
  observeSnapshots,
  type FlinkResourceObject,
  type ReconcilerDeps,
} from './resource-reconciler.js';

export type FlinkSessionJobObject = FlinkResourceObject & SessionJobResource;

export const SESSION_JOB_CACHES = { sessionJobs: 'flinksessionjobs', sessions: 'sessions' } as const;

export interface SessionJobReconcilerDeps extends ReconcilerDeps {
  jars: JarFetcher;
  /** Deadline of a jar upload to the session (`kubernetes.operator.user.artifacts.download.timeout`). */
  uploadTimeoutMs: number;
}

/** A user's `main` runs inside `POST /jars/:id/run` until its job is submitted: give it longer than a plain call. */
const RUN_TIMEOUT_MS = 120_000;

export class SessionJobReconciler extends FlinkResourceReconciler<
  FlinkSessionJobObject,
  SessionJobObservation,
  SessionJobAction
> {
  constructor(private readonly sessionDeps: SessionJobReconcilerDeps) {
    super(sessionDeps, {
      kind: 'FlinkSessionJob',
      plural: FLINK_SESSION_JOB.plural,
      cache: SESSION_JOB_CACHES.sessionJobs,
      finalizer: SESSION_JOB_FINALIZER,
    });
  }

  protected failedStatus(resource: FlinkSessionJobObject, message: string): FlinkSessionJobObject['status'] {
    return failedStepStatus(resource.status, 'FlinkSessionJob', message);
  }

  protected plan(
    resource: FlinkSessionJobObject,
    observation: SessionJobObservation,
    newJobId: string,
  ): SessionJobPlan {
    return planSessionJob({ resource, observation, operatorConfig: this.deps.operatorConfig(), newJobId });
  }

  private flink(namespace: string, session: string): FlinkRestClient {
    return new FlinkRestClient(this.deps.addresses.url(namespace, session), this.deps.flinkTimeoutMs, this.deps.signal);
  }

  protected async observe(resource: FlinkSessionJobObject): Promise<SessionJobObservation> {
    const now = Date.now();
    const { namespace } = resource.metadata;
    const name = resource.spec.deploymentName ?? '';
    const deployment = this.deps.caches.get(SESSION_JOB_CACHES.sessions, namespace, name) as Json | undefined;
    if (!deployment) return { now, session: { phase: 'absent' } };
    const jm =
      (deployment.status as { jobManagerDeploymentStatus?: string } | undefined)?.jobManagerDeploymentStatus ??
      'MISSING';
    if (jm !== 'READY') return { now, session: { phase: 'not-ready', deployment, reason: `its JobManager is ${jm}` } };
    const flink = this.flink(namespace, name);
    let session: SessionState;
    try {
      session = { phase: 'ready', deployment, jobs: await flink.jobs() };
    } catch (err) {
      return { now, session: { phase: 'not-ready', deployment, reason: (err as Error).message } };
    }
    const jobId = resource.status?.jobStatus?.jobId;
    const snapshots = await observeSnapshots(flink, resource.status?.jobStatus);
    const seen: SessionJobObservation = {
      now,
      session,
      ownedSnapshots: this.ownedSnapshots(resource),
      ...(snapshots.length > 0 ? { snapshots } : {}),
    };
    const newlyFailed =
      jobId !== undefined &&
      resource.status?.jobStatus?.state !== 'FAILED' &&
      session.jobs.some((j) => j.id === jobId && j.state === 'FAILED');
    return newlyFailed ? { ...seen, failure: await flink.failure(jobId) } : seen;
  }

  protected async act(
    resource: FlinkSessionJobObject,
    action: OwnAction<SessionJobAction>,
  ): Promise<FlinkSessionJobObject> {
    const { namespace, name } = resource.metadata;
    const session = resource.spec.deploymentName ?? '';
    switch (action.kind) {
      case 'submit': {
        const { jobId, jar } = await this.submit(this.flink(namespace, session), action.request);
        this.deps.log.info(
          {
            namespace,
            name,
            session,
            job: jobId,
            restoredFrom: action.request.savepointPath,
            jar: jar.version,
            downloaded: jar.downloaded,
          },
          'session job submitted',
        );
        const submitted = {
          uri: action.request.jarURI,
          bytes: jar.bytes,
          ...(jar.version ? { version: jar.version } : {}),
        };
        return this.writeStatus(resource, { ...action.statusAfter, jar: submitted });
      }
      case 'trigger-snapshot':
      case 'dispose-savepoints':
      case 'create-snapshot':
      case 'delete-snapshots':
        await this.runSnapshotAction(resource, this.flink(namespace, session), action);
        return resource;
      case 'stop-job': {
        const deadline = Date.now() + (this.deps.stopTimeoutMs ?? 300_000);
        const path = await this.flink(namespace, session).stop(action, deadline);
        this.deps.log.info(
          { namespace, name, session, job: action.jobId, mechanism: action.mechanism, path },
          'session job stopped',
        );
        if (action.recordSavepoint && path)
          await this.runSnapshotAction(resource, this.flink(namespace, session), {
            kind: 'create-snapshot',
            request: { ...action.recordSavepoint, path },
          });
        return this.writeStatus(resource, action.statusAfter(path));
      }
    }
  }

  /** Fetch (or reuse) the jar, upload it, run it under the pinned job id, and delete the upload whatever happens. */
  private async submit(flink: FlinkRestClient, request: SubmitRequest): Promise<{ jobId: string; jar: FetchedJar }> {
    const jar = await this.sessionDeps.jars.fetch(request.jarURI, request.jarHeaders, this.deps.signal);
    const jarId = await flink.uploadJar(jar.path, this.sessionDeps.uploadTimeoutMs);
    try {
      return { jobId: await flink.runJar(jarId, request, RUN_TIMEOUT_MS), jar };
    } finally {
      await flink
        .deleteJar(jarId)
        .catch((err: Error) => this.deps.log.warn({ jarId, err: err.message }, 'could not delete an uploaded jar'));
    }
  }
}
