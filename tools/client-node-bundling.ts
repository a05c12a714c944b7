// How a bundle keeps of @kubernetes/client-node only what runs: the kubeconfig and its authentication. The plugin,
// the operator and the webhook use no generated API client (their REST client and informers are our own), so the
// ~700 generated modules, node-fetch and its Unicode tables stay out of every bundle.
import type { Plugin } from 'esbuild';
import { join } from 'node:path';

/**
 * client-node's modules declare no `sideEffects`, so a bundler must keep every generated API and model it re-exports;
 * they have none, and saying so lets esbuild keep only what KubeConfig needs (3.8 MB → 1.1 MB).
 */
const clientNodeWithoutSideEffects: Plugin = {
  name: 'client-node-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (
        args.pluginData === 'resolved' ||
        !(args.path.startsWith('@kubernetes/client-node') || args.importer.includes('/@kubernetes/client-node/'))
      )
        return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'resolved',
      });
      return resolved.errors.length > 0
        ? undefined
        : { path: resolved.path, namespace: resolved.namespace, external: resolved.external, sideEffects: false };
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
      args.importer.endsWith('/@kubernetes/client-node/dist/config.js')
        ? { path: join(args.resolveDir, 'gen'), namespace: 'generated-index' }
        : undefined,
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
      contents:
        'export class Headers { constructor(init) { return new globalThis.Headers(init); } } export default (...args) => globalThis.fetch(...args);',
      loader: 'js',
    }));
  },
};

export const clientNodePlugins: Plugin[] = [builtInFetch, configWithoutGeneratedIndex, clientNodeWithoutSideEffects];
