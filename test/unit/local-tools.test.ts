// The local stack says exactly which toolchain is missing instead of failing somewhere inside a build.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../support/paths.js';
import { PINNED_NODE } from '../../tools/pinned-node.js';
import { suiteSources } from '../../local/image.js';

describe('local stack prerequisites', () => {
  it('without Go and without cached binaries, names the missing toolchain in one line', () => {
    const script = `
      const { ensureKubeBinaries } = await import(${JSON.stringify(join(repoRoot, 'dist/local/control-plane/binaries.js'))});
      try { await ensureKubeBinaries(${JSON.stringify(join(repoRoot, 'local/kube-binaries'))}, () => {}); console.log('built?!'); }
      catch (err) { console.log(err.constructor.name + ': ' + err.message); }`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      // Only node's own folder on PATH: no go. An empty cache: nothing prebuilt to fall back on.
      env: {
        PATH: dirname(process.execPath),
        XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'empty-cache-')),
        HOME: tmpdir(),
      },
    });
    expect(out.stdout.trim()).to.equal(
      "MissingTool: go is not installed or not on PATH: the local control plane is built from Kubernetes' published Go modules; install Go 1.26 or newer",
    );
  });
});

describe('the pinned Node', () => {
  it('every npm script and test runs on the Node package.json pins; another Node stops in one line', () => {
    expect(process.version).to.equal(`v${PINNED_NODE}`);
    const other = spawnSync(
      '/usr/bin/env',
      [
        '-i',
        `PATH=${['/usr/local/bin', '/usr/bin', '/bin'].join(':')}`,
        'node',
        join(repoRoot, 'tools/require-pinned-node.mjs'),
      ],
      { encoding: 'utf8' },
    );
    if (other.error) throw new Error(`this machine has no node of its own on PATH: ${other.error.message}`);
    const systemNode = spawnSync('/usr/bin/env', ['-i', 'PATH=/usr/local/bin:/usr/bin:/bin', 'node', '--version'], {
      encoding: 'utf8',
    }).stdout.trim();
    if (systemNode === process.version) return; // a machine whose own Node is the pinned one has nothing to refuse
    expect(other.status).to.equal(1);
    expect(other.stderr.trim().split('\n')).to.have.length(1);
    expect(other.stderr).to.contain(`runs on Node ${PINNED_NODE}, this is ${systemNode}`);
  });

  it("the image's Debian sources are the machine's mirror and keyring, for the image's release", () => {
    const host =
      'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nSigned-By: /k.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n';
    expect(suiteSources(host, 'bookworm')).to.equal(
      host
        .replace('bookworm bookworm-updates', 'trixie trixie-updates')
        .replace('bookworm-security', 'trixie-security'),
    );
  });
});
