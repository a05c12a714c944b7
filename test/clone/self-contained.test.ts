// A clone tests itself: what the suites take from upstream (its example resources, its CRDs) is restated in the
// repository, so nothing is read from beside it. Proved on a copy of the working tree in an empty folder.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../support/paths.js';

describe('a clone with nothing beside it', function () {
  this.timeout(600_000);

  it("builds, and passes the suites that read upstream's examples and CRDs", () => {
    const outer = mkdtempSync(join(tmpdir(), 'clone-'));
    try {
      const clone = join(outer, 'flink-operator-ts');
      // The working tree as git sees it: tracked files, and untracked ones it does not ignore.
      const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
        cwd: repoRoot,
        encoding: 'utf8',
      })
        .split('\0')
        .filter(Boolean);
      for (const file of files) {
        mkdirSync(dirname(join(clone, file)), { recursive: true });
        copyFileSync(join(repoRoot, file), join(clone, file));
      }
      symlinkSync(join(repoRoot, 'node_modules'), join(clone, 'node_modules'));
      const run = (command: string, args: string[]) =>
        spawnSync(command, args, { cwd: clone, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
      const build = run('npm', ['run', 'build']);
      expect(build.status, build.stdout + build.stderr).to.equal(0);
      const suites = [
        'dist/test/unit/crd.test.js',
        'dist/test/webhook/examples.test.js',
        'dist/test/webhook/upstream-fidelity.test.js',
      ];
      const tests = run(join(clone, 'node_modules/.bin/mocha'), suites);
      expect(tests.status, tests.stdout + tests.stderr).to.equal(0);
      expect(tests.stdout).to.match(/^(\d+) passed, 0 failed$/m);
      expect(readdirSync(outer), 'nothing beside the clone').to.deep.equal(['flink-operator-ts']);
    } finally {
      rmSync(outer, { recursive: true, force: true });
    }
  });
});
