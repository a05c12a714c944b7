// kubectl-flink as one file (dist/kubectl-flink.mjs, or the path given): it is run by hand many times a day, and a bundle starts in a
// fraction of the time of resolving and loading hundreds of modules — client-node above all, of which only the
// kubeconfig and authentication code is kept.
import { build, type Plugin } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outfile = process.argv[2] ?? join(root, 'dist/kubectl-flink.mjs');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/**
 * client-node's modules declare no `sideEffects`, so a bundler must keep every generated API and model it re-exports;
 * they have none, and saying so lets esbuild keep only what KubeConfig needs (3.8 MB → 1.1 MB).
 */
const clientNodeWithoutSideEffects: Plugin = {
  name: 'client-node-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'resolved' || !(args.path.startsWith('@kubernetes/client-node') || args.importer.includes('/@kubernetes/client-node/'))) return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolved' });
      return resolved.errors.length > 0 ? undefined : { path: resolved.path, namespace: resolved.namespace, external: resolved.external, sideEffects: false };
    });
  },
};

/**
 * KubeConfig needs two names of the generated client's index (createConfiguration, ServerConfiguration), but that
 * index re-exports every API and model: taken from their own modules instead, ~700 modules are never parsed.
 */
const configWithoutGeneratedIndex: Plugin = {
  name: 'config-without-generated-index',
  setup(b) {
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      args.importer.endsWith('/@kubernetes/client-node/dist/config.js') ? { path: join(args.resolveDir, 'gen'), namespace: 'generated-index' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'generated-index' }, (args) => ({
      contents: `export { createConfiguration } from './configuration.js'; export { ServerConfiguration } from './servers.js';`,
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};

/**
 * node-fetch (and, under it, whatwg-url's Unicode tables) only for a `Headers` Node has built in: the built-ins
 * instead, reached when first used — touching them at load would load Node's fetch (undici) on every run.
 */
const builtInFetch: Plugin = {
  name: 'built-in-fetch',
  setup(b) {
    b.onResolve({ filter: /^node-fetch$/ }, () => ({ path: 'node-fetch', namespace: 'built-in-fetch' }));
    b.onLoad({ filter: /.*/, namespace: 'built-in-fetch' }, () => ({
      contents: 'export class Headers { constructor(init) { return new globalThis.Headers(init); } } export default (...args) => globalThis.fetch(...args);',
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [join(root, 'plugin/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { PLUGIN_BUILD_VERSION: JSON.stringify(version) },
  plugins: [builtInFetch, configWithoutGeneratedIndex, clientNodeWithoutSideEffects],
  // CommonJS dependencies call require(): give the ES module bundle one.
  banner: { js: "import { createRequire as __kubectlFlinkRequire } from 'node:module'; const require = __kubectlFlinkRequire(import.meta.url);" },
});
chmodSync(outfile, 0o755);
