import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/…). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** `shared/` sits beside the checkout, for developers and in CI alike; without it the suite cannot judge anything. */
export const sharedReference = (() => {
  const dir = resolve(repoRoot, '../shared/reference');
  if (!existsSync(dir)) throw new Error(`the upstream reference material is missing: expected ${dir}`);
  return dir;
})();

export const upstreamExamplesDir = join(sharedReference, 'flink-kubernetes-operator/examples');
export const upstreamCrdsDir = join(sharedReference, 'flink-kubernetes-operator/crds');
