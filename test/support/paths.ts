import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/…). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Upstream's example resources, restated as our own fixtures (each file names the upstream example it stands for):
 * a clone tests itself, reading nothing from beside the repository.
 */
export const upstreamExamplesDir = join(repoRoot, 'test/fixtures/upstream-examples');
