// Golden test (SPEC §5): the objects the operator creates for a FlinkDeployment are the ones Flink's own native
// Kubernetes client creates for the same configuration — names, labels, ports, container command and args, volumes,
// resources and the configuration Flink reads. The expected side is produced by Flink's KubernetesJobManagerFactory
// (flink-kubernetes from Maven Central, dev.flinkoperatorts.golden.FactoryObjects), never written by hand.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildFlinkConfiguration } from '../../api/cluster/flink-configuration.js';
import { clusterObjects } from '../../api/cluster/objects.js';
import { withDefaults } from '../../api/defaults.js';
import { flattenConfig, parseQuantity } from '../../api/flink-config.js';
import { FLINK_DEPLOYMENT } from '../../api/schema/crd.js';
import type { FlinkDeploymentSpec } from '../../api/types.generated.js';
import type { Json } from '../../api/validation/access.js';
import { ensureFlinkRunner, FLINK_LINES, type FlinkRunnerBuild } from '../../local/flink/runner-build.js';
import { readFlatFlinkConfig } from '../../local/flink/local-config.js';
import { repoRoot, upstreamExamplesDir } from '../support/paths.js';

const run = promisify(execFile);

type K8sObject = {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
};

/** What a user's cluster would notice of an object, in a form where equal means equal. */
function essentials(o: K8sObject): unknown {
  const base = { kind: o.kind, name: o.metadata.name, labels: o.metadata.labels };
  if (o.kind === 'Deployment') {
    const pod = o.spec.template.spec;
    const main = pod.containers.find((c: any) => c.name === 'flink-main-container');
    const quantity = (q: Record<string, string> | undefined) =>
      Object.fromEntries(Object.entries(q ?? {}).map(([k, v]) => [k, parseQuantity(String(v))]));
    return {
      ...base,
      replicas: o.spec.replicas,
      selector: o.spec.selector,
      podLabels: o.spec.template.metadata.labels,
      serviceAccountName: pod.serviceAccountName,
      dnsPolicy: pod.dnsPolicy,
      volumes: pod.volumes.map((v: any) => ({
        ...v,
        ...(v.configMap
          ? {
              configMap: {
                ...v.configMap,
                items: [...v.configMap.items].sort((a: any, b: any) => a.key.localeCompare(b.key)),
              },
            }
          : {}),
      })),
      main: {
        image: main.image,
        imagePullPolicy: main.imagePullPolicy,
        command: main.command,
        args: main.args,
        ports: main.ports,
        env: main.env,
        volumeMounts: main.volumeMounts,
        resources: { requests: quantity(main.resources.requests), limits: quantity(main.resources.limits) },
      },
    };
  }
  if (o.kind === 'Service') {
    return {
      ...base,
      type: o.spec.type,
      clusterIP: o.spec.clusterIP,
      selector: o.spec.selector,
      ports: o.spec.ports.map((p: any) => ({ ...p, targetPort: p.targetPort ?? p.port })),
    };
  }
  // ConfigMap: the same files, and the configuration Flink reads from it the same key for key.
  const data = o.data ?? {};
  const config = data['config.yaml'] ?? data['flink-conf.yaml'];
  return {
    ...base,
    files: Object.keys(data).sort(),
    config: config === undefined ? undefined : normalizedConfig(config),
  };
}

/** Flink writes standard (nested) YAML, we write flat `key: value` lines: both read as the same flat keys. */
function normalizedConfig(text: string): Record<string, string> {
  const nested = parse(text) as Json;
  const flat = text.split('\n').every((l) => l === '' || /^[^\s:][^:]*: /.test(l))
    ? readFlatFlinkConfig(text)
    : flattenConfig(nested);
  return Object.fromEntries(Object.entries(flat).sort(([a], [b]) => a.localeCompare(b)));
}

// Every line against its own factories, the resource naming the newest version the line runs.
for (const line of FLINK_LINES) {
  const flinkVersion = line.runs[line.runs.length - 1]!;
  describe(`golden on Flink ${line.flink} (${flinkVersion}): the objects of a FlinkDeployment are the ones Flink's own factories create`, function () {
    this.timeout(300_000);
    let build: FlinkRunnerBuild;
    let dir: string;

    before(async () => {
      build = await ensureFlinkRunner(
        join(repoRoot, 'local/flink-runner'),
        (progress) => process.stderr.write(`      [flink] ${progress}\n`),
        line,
      );
      dir = mkdtempSync(join(tmpdir(), 'flink-golden-'));
    });

    const examples: [string, string, (spec: FlinkDeploymentSpec) => void][] = [
      ['basic.yaml (native application)', 'basic.yaml', () => undefined],
      ['basic-session-deployment-only.yaml (native session)', 'basic-session-deployment-only.yaml', () => undefined],
      [
        'basic.yaml with HA (no internal Service)',
        'basic.yaml',
        (s) =>
          (s.flinkConfiguration = {
            ...s.flinkConfiguration,
            'high-availability.type': 'kubernetes',
            'high-availability.storageDir': 'file:///flink-data/ha',
          }),
      ],
      [
        'basic.yaml with limits, an image pull policy and args',
        'basic.yaml',
        (s) => {
          s.imagePullPolicy = 'Always';
          s.jobManager = {
            replicas: 1,
            resources: { requests: { memory: '1536m', cpu: '0.5' }, limits: { memory: '3072m', cpu: '2' } },
          };
          s.job = { ...s.job!, entryClass: 'org.example.Main', args: ['--events-per-second', '20'] };
        },
      ],
    ];

    for (const [what, file, change] of examples) {
      it(what, async () => {
        const resource = withDefaults(
          FLINK_DEPLOYMENT,
          parse(readFileSync(join(upstreamExamplesDir, file), 'utf8')) as Json,
        );
        const spec = resource.spec as FlinkDeploymentSpec;
        spec.flinkVersion = flinkVersion;
        change(spec);
        const name = (resource.metadata as { name: string }).name;
        const conf = buildFlinkConfiguration(
          { name, namespace: 'golden' },
          spec,
          {},
          spec.job ? { jobId: 'a'.repeat(32) } : {},
        );
        const ours = clusterObjects({ name, namespace: 'golden', uid: 'u', generation: 1, spec, conf });
        const configMap = ours.dependents.find((d) => d.kind === 'ConfigMap') as K8sObject;

        // Flink reads what we wrote into the ConfigMap, as a pod would see it mounted.
        const confDir = join(dir, name + Math.random().toString(16).slice(2), 'conf');
        mkdirSync(confDir, { recursive: true });
        for (const [key, value] of Object.entries(configMap.data!)) writeFileSync(join(confDir, key), value);
        const out = join(confDir, '..', 'flink-objects.json');
        await run('java', ['-cp', build.classpath, 'dev.flinkoperatorts.golden.FactoryObjects', confDir, out], {
          maxBuffer: 16 * 1024 * 1024,
        });
        const flink = JSON.parse(readFileSync(out, 'utf8')) as K8sObject[];

        const byKey = (objects: K8sObject[]) => new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
        const expected = byKey(flink);
        const actual = byKey([ours.jobManager, ...ours.dependents] as K8sObject[]);
        expect([...actual.keys()].sort(), 'the same objects').to.deep.equal([...expected.keys()].sort());
        for (const [key, object] of expected)
          expect(essentials(actual.get(key)!), key).to.deep.equal(essentials(object));
      });
    }
  });
}
