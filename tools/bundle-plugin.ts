// kubectl-flink as one file (dist/kubectl-flink.mjs, or the path given): it is run by hand many times a day, and a bundle starts in a
// fraction of the time of resolving and loading hundreds of modules — client-node above all, of which only the
// kubeconfig and authentication code is kept.
import { build } from 'esbuild';
import { clientNodePlugins } from './client-node-bundling.js';
import { ESBUILD_NODE_TARGET } from './pinned-node.js';
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outfile = process.argv[2] ?? join(root, 'dist/kubectl-flink.mjs');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

await build({
  entryPoints: [join(root, 'plugin/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: ESBUILD_NODE_TARGET,
  outfile,
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { PLUGIN_BUILD_VERSION: JSON.stringify(version) },
  plugins: clientNodePlugins,
  // CommonJS dependencies call require(): give the ES module bundle one.
  banner: {
    js: "import { createRequire as __kubectlFlinkRequire } from 'node:module'; const require = __kubectlFlinkRequire(import.meta.url);",
  },
});
chmodSync(outfile, 0o755);
