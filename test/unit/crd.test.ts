import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedFiles, kubernetesSchemasFile } from '../../tools/generated-files.js';
import { repoRoot, upstreamCrdsDir } from '../support/paths.js';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

const readCrd = (path: string) => parse(readFileSync(path, 'utf8')) as { spec: { names: Record<string, unknown>; versions: { schema: { openAPIV3Schema: Schema }; subresources: unknown; additionalPrinterColumns: { name: string; jsonPath: string }[] }[] } };
const ours = (plural: string) => readCrd(join(repoRoot, `charts/flink-operator-ts/crds/${plural}.flink.apache.org.yaml`));
const upstream = (plural: string) => readCrd(join(upstreamCrdsDir, `${plural}.flink.apache.org-v1.yml`));

/** Every property path with its type: `.spec.job.parallelism integer`, maps as `{}`, arrays as `[]`. */
function typedPaths(schema: Schema, path = '', out = new Map<string, string>()): Map<string, string> {
  const type = schema['x-kubernetes-int-or-string'] ? 'int-or-string' : schema['x-kubernetes-preserve-unknown-fields'] && !schema.type ? 'any' : (schema.type ?? 'untyped');
  out.set(path || '.', type);
  for (const [key, child] of Object.entries(schema.properties ?? {})) typedPaths(child, `${path}.${key}`, out);
  if (schema.items) typedPaths(schema.items, `${path}[]`, out);
  if (typeof schema.additionalProperties === 'object') typedPaths(schema.additionalProperties, `${path}{}`, out);
  return out;
}

describe('CRDs', () => {
  it('the committed CRDs and types are what the generator writes from api/schema', async () => {
    for (const file of await generatedFiles()) {
      const committed = readFileSync(join(repoRoot, file.path), 'utf8');
      expect(committed === file.content, `${file.path} is stale: run \`npm run generate\``).to.equal(true);
    }
  });

  it("the committed Kubernetes subtrees are what the pinned release's OpenAPI definitions give", function () {
    this.timeout(300_000); // a fresh machine fetches the k8s.io/kubernetes module once (about 20 MB)
    const file = kubernetesSchemasFile(repoRoot);
    expect(readFileSync(join(repoRoot, file.path), 'utf8') === file.content, `${file.path} is stale: run \`node dist/tools/generate.js kubernetes-schemas\``).to.equal(true);
  });

  for (const plural of ['flinkdeployments', 'flinksessionjobs']) {
    describe(plural, () => {
      it('declares every property path of the upstream CRD with the same type', () => {
        const theirs = typedPaths(upstream(plural).spec.versions[0]!.schema.openAPIV3Schema);
        const mine = typedPaths(ours(plural).spec.versions[0]!.schema.openAPIV3Schema);
        const missing = [...theirs].filter(([path]) => !mine.has(path)).map(([p]) => p);
        const differing = [...theirs].filter(([path, type]) => mine.has(path) && mine.get(path) !== type).map(([p, t]) => `${p}: upstream ${t}, ours ${mine.get(p)}`);
        expect(theirs.size).to.be.greaterThan(plural === 'flinkdeployments' ? 2000 : 60);
        expect(missing, 'paths missing from our CRD').to.deep.equal([]);
        expect(differing, 'paths typed differently').to.deep.equal([]);
      });

      it('has no required lists anywhere (required-ness lives in validation, as upstream)', () => {
        expect(readFileSync(join(repoRoot, `charts/flink-operator-ts/crds/${plural}.flink.apache.org.yaml`), 'utf8')).to.not.match(/^\s*required:/m);
      });

      it('has the upstream subresources, short name and printer columns, plus Age', () => {
        const crd = ours(plural).spec;
        const theirs = upstream(plural).spec;
        expect(crd.versions[0]!.subresources).to.deep.equal(theirs.versions[0]!.subresources);
        expect(crd.names.shortNames).to.deep.equal(plural === 'flinkdeployments' ? ['flinkdep'] : ['sessionjob']);
        const columns = crd.versions[0]!.additionalPrinterColumns.map((c) => `${c.name} ${c.jsonPath}`);
        expect(columns).to.include.members(['Job Status .status.jobStatus.state', 'Lifecycle State .status.lifecycleState', 'Age .metadata.creationTimestamp']);
        if (plural === 'flinkdeployments') expect(columns).to.include('Mode .spec.mode');
      });
    });
  }
});
