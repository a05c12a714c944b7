// The configuration catalogues admission checks against are what each line's own jars declare today: regenerated
// from the runner's classpath and compared with the checked-in files (`node dist/tools/generate.js flink-catalogues`).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flinkCatalogueFiles } from '../../tools/generated-files.js';
import { repoRoot } from '../support/paths.js';

describe('Flink configuration catalogues', function () {
  this.timeout(600_000);

  it("are fresh: each is what its line's jars declare", async () => {
    const files = await flinkCatalogueFiles(repoRoot);
    expect(files.map((f) => f.path)).to.have.length.greaterThan(0);
    for (const file of files)
      expect(
        readFileSync(join(repoRoot, file.path), 'utf8') === file.content,
        `${file.path} is stale: run node dist/tools/generate.js flink-catalogues`,
      ).to.equal(true);
  });
});
