// Kubernetes HA end to end: the local Flink runs Flink's own Kubernetes HA services against the stack's API server
// with the `flink` ServiceAccount's token, as a pod does. Upstream's basic-checkpoint-ha.yaml, a last-state upgrade
// restored from the checkpoint HA metadata points to, a JobManager lost and recovered from HA with its keyed state,
// and HA metadata that never outlives the resource.
import { expect } from 'chai';
import { auditEvents, settleAudit } from '../support/audit.js';
import { eventually, kubectl, useStackNamespace } from '../support/stack.js';
import {
  apply,
  eventRecorded,
  getDeployment,
  patchSpec,
  runningJob,
  upstreamDeployment,
  waitForLifecycle,
  waitForUpgraded,
  type Deployment,
} from '../support/flink-deployments.js';

const NAME = 'basic-checkpoint-ha-example';

interface ConfigMap {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** Flink's HA ConfigMaps of the cluster: its common labels, and named after it (unlike its flink-config-<name>). */
async function haConfigMaps(ns: string): Promise<ConfigMap[]> {
  const result = await kubectl([
    'get',
    'configmaps',
    '-n',
    ns,
    '-l',
    `app=${NAME},type=flink-native-kubernetes`,
    '-o',
    'json',
  ]);
  expect(result.code, result.stderr).to.equal(0);
  return (JSON.parse(result.stdout) as { items: ConfigMap[] }).items.filter((c) =>
    c.metadata.name.startsWith(`${NAME}-`),
  );
}

/** The checkpoint ids a job's HA ConfigMap points to (`checkpointID-<id>` keys). */
async function haCheckpointIds(ns: string, jobId: string): Promise<number[]> {
  const maps = await haConfigMaps(ns);
  const cm = maps.find((c) => c.metadata.name === `${NAME}-${jobId}-config-map`);
  if (!cm) throw new Error(`no ${NAME}-${jobId}-config-map among [${maps.map((c) => c.metadata.name).join(', ')}]`);
  const ids = Object.keys(cm.data ?? {})
    .filter((k) => k.startsWith('checkpointID-'))
    .map((k) => Number(k.slice('checkpointID-'.length)));
  if (ids.length === 0)
    throw new Error(`no checkpoint in ${cm.metadata.name} (keys: ${Object.keys(cm.data ?? {}).join(', ')})`);
  return ids;
}

/** The names of the cluster's JobManager pods. */
async function jobManagerPods(ns: string): Promise<string[]> {
  const result = await kubectl([
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    `app=${NAME},component=jobmanager`,
    '-o',
    'jsonpath={.items[*].metadata.name}',
  ]);
  expect(result.code, result.stderr).to.equal(0);
  return result.stdout.split(/\s+/).filter(Boolean);
}

async function restored(url: string, jid: string): Promise<{ id?: number; external_path?: string } | undefined> {
  const stats = (await (await fetch(`${url}/jobs/${jid}/checkpoints`)).json()) as {
    latest?: { restored?: { id?: number; external_path?: string } };
  };
  return stats.latest?.restored;
}

/** The CountingJob's `highestCount` metric: the largest keyed count it has seen (continues after a restore). */
async function highestCount(url: string, jid: string): Promise<number | undefined> {
  const { vertices } = (await (await fetch(`${url}/jobs/${jid}`)).json()) as {
    vertices: { id: string; name: string }[];
  };
  const vertex = vertices.find((v) => v.name.includes('count-per-key'));
  if (!vertex) return undefined;
  const base = `${url}/jobs/${jid}/vertices/${vertex.id}/subtasks/metrics`;
  const id = ((await (await fetch(base)).json()) as { id: string }[]).find((m) => m.id.endsWith('highestCount'))?.id;
  if (!id) return undefined;
  const [metric] = (await (await fetch(`${base}?get=${id}&agg=max`)).json()) as { max?: number }[];
  return metric?.max;
}

function haDeployment(): Deployment {
  return upstreamDeployment('basic-checkpoint-ha.yaml', (d) => {
    d.spec!.flinkConfiguration = {
      ...d.spec!.flinkConfiguration,
      'execution.checkpointing.interval': '2 s',
      'kubernetes.operator.observer.progress-check.interval': '1 s',
    };
    d.spec!.job!.args = ['--events-per-second', '20'];
  });
}

describe("Kubernetes HA (Flink's own HA services against the real API server)", function () {
  const namespace = useStackNamespace(this);
  this.timeout(600_000);

  it('basic-checkpoint-ha.yaml: HA ConfigMaps written by Flink; a last-state upgrade restores from the checkpoint HA points to; a lost JobManager recovers its job and state; deletion leaves no HA metadata', async () => {
    const ns = namespace();
    await apply(ns, haDeployment());
    await waitForLifecycle(ns, NAME, 'STABLE');
    const first = await runningJob(ns, NAME);

    // Flink's own HA services: leader election on the cluster ConfigMap, the job's checkpoints in its own, written
    // with the pod's ServiceAccount. (Flink 2.x labels them with its common labels only, no configmap-type.)
    await eventually(
      'a checkpoint pointer in HA metadata',
      async () => (await haCheckpointIds(ns, first.jid)).length > 0,
      60_000,
    );
    const maps = await haConfigMaps(ns);
    const cluster = maps.find((c) => c.metadata.name === `${NAME}-cluster-config-map`);
    expect(cluster, maps.map((c) => c.metadata.name).join(', ')).to.not.equal(undefined);
    expect(cluster!.metadata.labels).to.include({ app: NAME, type: 'flink-native-kubernetes' });
    expect(JSON.parse(cluster!.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader'] ?? '{}'))
      .to.have.property('holderIdentity')
      .that.is.a('string').and.not.empty;
    await settleAudit();
    const writers = new Set(
      (
        await auditEvents(
          (e) =>
            e.objectRef?.resource === 'configmaps' &&
            e.objectRef.namespace === ns &&
            ['create', 'update', 'patch'].includes(e.verb) &&
            (e.objectRef.name ?? '').startsWith(`${NAME}-`) &&
            e.objectRef.name !== `flink-config-${NAME}`,
        )
      ).map((e) => e.user.username),
    );
    expect([...writers]).to.deep.equal([`system:serviceaccount:${ns}:flink`]);

    // A last-state upgrade: the job is not cancelled; the new cluster recovers the same job from HA's newest checkpoint.
    const seen = new Set<number>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const id of await haCheckpointIds(ns, first.jid).catch(() => [])) seen.add(id);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    // Stopped however the wait ends: a loop left polling would keep the test process alive after the suite.
    let upgraded: { job: { url: string; jid: string }; from: { id?: number; external_path?: string } };
    let atUpgrade: number;
    try {
      atUpgrade = Math.max(...(await haCheckpointIds(ns, first.jid)));
      await patchSpec(ns, NAME, { job: { upgradeMode: 'last-state', args: ['--events-per-second', '21'] } });
      upgraded = await eventually(
        'the upgraded job restored',
        async () => {
          const d = await getDeployment(ns, NAME);
          const job = await runningJob(ns, NAME, 5000).catch(() => undefined);
          const from = job && (await restored(job.url, job.jid));
          const lifecycle = d?.status?.lifecycleState;
          if ((lifecycle === 'DEPLOYED' || lifecycle === 'STABLE') && job && from?.id !== undefined)
            return { job, from };
          // What was seen, for the timeout's message: the status and Flink's side of it.
          const s = d?.status;
          throw new Error(
            `lifecycle ${lifecycle}, job ${s?.jobStatus?.state} ${s?.jobStatus?.jobId}, JobManager ${s?.jobManagerDeploymentStatus}, ` +
              `error ${s?.error ?? 'none'}; Flink: ${job ? `${job.jid} RUNNING at ${job.url}, restored ${from?.id ?? 'nothing'}` : 'no RUNNING job'}`,
          );
        },
        180_000,
      );
    } finally {
      watching = false;
      await watch;
    }
    expect(upgraded.job.jid, 'the same job, recovered').to.equal(first.jid);
    const pointed = [...seen].sort((a, b) => a - b).join(', ');
    expect(
      seen.has(upgraded.from.id!),
      `restored checkpoint ${upgraded.from.id} is one HA pointed to (${pointed})`,
    ).to.equal(true);
    expect(upgraded.from.id, 'no older than the newest one when the upgrade began').to.be.at.least(atUpgrade);
    expect(upgraded.from.external_path).to.match(
      new RegExp(`/flink-data/checkpoints/${first.jid}/chk-${upgraded.from.id}$`),
    );
    await waitForLifecycle(ns, NAME, 'STABLE');

    // The JobManager Deployment deleted under the running job: recovered from HA, same job, counts continuing.
    await eventually(
      'keyed counts of 40 or more',
      async () => ((await highestCount(upgraded.job.url, upgraded.job.jid)) ?? 0) >= 40 || undefined,
      120_000,
    );
    const countBefore = (await highestCount(upgraded.job.url, upgraded.job.jid))!;
    const lostPods = await jobManagerPods(ns);
    expect((await kubectl(['delete', 'deployment', NAME, '-n', ns])).code).to.equal(0);
    await eventRecorded(ns, NAME, 'RecoverDeployment', 60_000);
    // Read from the new JobManager only: the lost one answers until the garbage collector has deleted its pod.
    const recovered = await eventually(
      'the recovered job counting on a new JobManager',
      async () => {
        if ((await jobManagerPods(ns)).some((pod) => lostPods.includes(pod))) return undefined;
        const job = await runningJob(ns, NAME, 5000).catch(() => undefined);
        const count = job && (await highestCount(job.url, job.jid).catch(() => undefined));
        const from =
          job && count !== undefined && count > 0 ? await restored(job.url, job.jid).catch(() => undefined) : undefined;
        return job && from ? { job, count: count!, from } : undefined;
      },
      180_000,
    );
    expect(recovered.job.jid, 'the same job').to.equal(first.jid);
    expect(recovered.count, `counts continue from ${countBefore} rather than restart`).to.be.at.least(countBefore - 10);
    expect(recovered.from.external_path).to.match(/chk-\d+$/);

    // Stateless from here: the old job's HA metadata goes with its cluster.
    await patchSpec(ns, NAME, { job: { upgradeMode: 'stateless', args: ['--events-per-second', '22'] } });
    const stateless = await waitForUpgraded(ns, NAME, first.jid);
    expect(stateless.status?.jobStatus?.jobId).to.not.equal(first.jid);
    await waitForLifecycle(ns, NAME, 'STABLE');
    expect((await haConfigMaps(ns)).map((c) => c.metadata.name)).to.not.include(`${NAME}-${first.jid}-config-map`);

    // Deleted: nothing of HA is left behind.
    expect((await kubectl(['delete', 'flinkdeployment', NAME, '-n', ns, '--timeout=120s'])).code).to.equal(0);
    await eventually('no HA ConfigMaps left', async () => (await haConfigMaps(ns)).length === 0 || undefined, 60_000);
  });
});
