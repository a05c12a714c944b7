// Writes every generated file of the repository; `--check` fails when a committed one is stale.
//   node dist/tools/generate.js [--check] [kubernetes-schemas] [flink-catalogues] [crds] [types] [readme]
// Without targets: crds, types and the README's configuration table (kubernetes-schemas needs the Go toolchain and
// flink-catalogues Java and Maven, so they are asked for by name).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flinkCatalogueFiles, generatedFiles, kubernetesSchemasFile } from './generated-files.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const targets = args.filter((a) => !a.startsWith('--'));

const wanted = targets.length > 0 ? targets : ['crds', 'types', 'readme'];
const byName = ['kubernetes-schemas', 'flink-catalogues'];
const files = [
  ...(wanted.includes('kubernetes-schemas') ? [kubernetesSchemasFile(repoRoot)] : []),
  ...(wanted.includes('flink-catalogues') ? await flinkCatalogueFiles(repoRoot) : []),
  ...(wanted.some((t) => !byName.includes(t)) ? (await generatedFiles()).filter((f) => wanted.includes(f.target)) : []),
];

const stale: string[] = [];
for (const file of files) {
  const path = join(repoRoot, file.path);
  const current = readOrEmpty(path);
  if (current === file.content) continue;
  if (check) stale.push(file.path);
  else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    console.log(`wrote ${file.path}`);
  }
}
if (stale.length > 0) {
  console.error(`stale generated files (run \`npm run generate\`): ${stale.join(', ')}`);
  process.exit(1);
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
