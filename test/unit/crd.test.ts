import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedFiles, kubernetesSchemasFile } from '../../tools/generated-files.js';
import { crdFacts, readFacts } from '../../tools/crd-facts.js';
import { repoRoot } from '../support/paths.js';

const readCrd = (path: string) =>
  parse(readFileSync(path, 'utf8')) as {
    spec: {
      names: Record<string, unknown>;
      versions: { additionalPrinterColumns: { name: string; jsonPath: string }[] }[];
    };
  };
const ourFile = (plural: string) => join(repoRoot, `charts/flink-operator-ts/crds/${plural}.flink.apache.org.yaml`);
const ours = (plural: string) => readCrd(ourFile(plural));
/** Upstream's CRD as our fixture restates it (tools/crd-facts.ts): its property paths with their types, its subresources. */
const upstream = (plural: string) =>
  readFacts(readFileSync(join(repoRoot, `test/fixtures/upstream-crds/${plural}.txt`), 'utf8'));

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
    expect(
      readFileSync(join(repoRoot, file.path), 'utf8') === file.content,
      `${file.path} is stale: run \`node dist/tools/generate.js kubernetes-schemas\``,
    ).to.equal(true);
  });

  for (const plural of ['flinkdeployments', 'flinksessionjobs']) {
    describe(plural, () => {
      it('declares every property path of the upstream CRD with the same type', () => {
        const theirs = upstream(plural).paths;
        const mine = crdFacts(readFileSync(ourFile(plural), 'utf8')).paths;
        const missing = [...theirs].filter(([path]) => !mine.has(path)).map(([p]) => p);
        const differing = [...theirs]
          .filter(([path, type]) => mine.has(path) && mine.get(path) !== type)
          .map(([p, t]) => `${p}: upstream ${t}, ours ${mine.get(p)}`);
        expect(theirs.size).to.be.greaterThan(plural === 'flinkdeployments' ? 2000 : 60);
        expect(missing, 'paths missing from our CRD').to.deep.equal([]);
        expect(differing, 'paths typed differently').to.deep.equal([]);
      });

      it('has no required lists anywhere (required-ness lives in validation, as upstream)', () => {
        expect(
          readFileSync(join(repoRoot, `charts/flink-operator-ts/crds/${plural}.flink.apache.org.yaml`), 'utf8'),
        ).to.not.match(/^\s*required:/m);
      });

      it('has the upstream subresources, short name and printer columns, plus Age', () => {
        const crd = ours(plural).spec;
        expect(crdFacts(readFileSync(ourFile(plural), 'utf8')).subresources).to.deep.equal(
          upstream(plural).subresources,
        );
        expect(crd.names.shortNames).to.deep.equal(plural === 'flinkdeployments' ? ['flinkdep'] : ['sessionjob']);
        const columns = crd.versions[0]!.additionalPrinterColumns.map((c) => `${c.name} ${c.jsonPath}`);
        expect(columns).to.include.members([
          'Job Status .status.jobStatus.state',
          'Lifecycle State .status.lifecycleState',
          'Age .metadata.creationTimestamp',
        ]);
        if (plural === 'flinkdeployments') expect(columns).to.include('Mode .spec.mode');
      });
    });
  }
});
