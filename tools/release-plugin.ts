// npm run plugin:release: dist/release/kubectl-flink-v<version>.tar.gz and plugins/flink.yaml, its krew manifest.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { releasePlugin } from '../local/plugin-release.js';
import { repoRoot } from '../local/stack.js';

const outDir = join(repoRoot, 'dist/release');
mkdirSync(outDir, { recursive: true });
const release = await releasePlugin(outDir);
writeFileSync(join(repoRoot, 'plugins/flink.yaml'), release.manifest);
console.log(
  `${release.archive}\nsha256 ${release.sha256}\nplugins/flink.yaml written: publish the archive as the release asset it names`,
);
