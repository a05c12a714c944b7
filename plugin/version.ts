// The plugin's version: package.json's, put in by the bundle (tools/bundle-plugin.ts); unbundled runs say so.
declare const PLUGIN_BUILD_VERSION: string | undefined;
export const PLUGIN_VERSION = typeof PLUGIN_BUILD_VERSION === 'string' ? PLUGIN_BUILD_VERSION : '0.0.0-unbundled';
