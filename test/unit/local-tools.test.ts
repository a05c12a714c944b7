// The local stack says exactly which toolchain is missing instead of failing somewhere inside a build.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../support/paths.js';

describe('local stack prerequisites', () => {
  it('without Go and without cached binaries, names the missing toolchain in one line', () => {
    const script = `
      const { ensureKubeBinaries } = await import(${JSON.stringify(join(repoRoot, 'dist/local/control-plane/binaries.js'))});
      try { await ensureKubeBinaries(${JSON.stringify(join(repoRoot, 'local/kube-binaries'))}, () => {}); console.log('built?!'); }
      catch (err) { console.log(err.constructor.name + ': ' + err.message); }`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      // Only node's own folder on PATH: no go. An empty cache: nothing prebuilt to fall back on.
      env: { PATH: dirname(process.execPath), XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'empty-cache-')), HOME: tmpdir() },
    });
    expect(out.stdout.trim()).to.equal(
      "MissingTool: go is not installed or not on PATH: the local control plane is built from Kubernetes' published Go modules; install Go 1.26 or newer",
    );
  });
});
