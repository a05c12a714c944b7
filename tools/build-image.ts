// npm run image: builds localhost/flink-operator-ts:<version> and saves it as an OCI archive in dist/.
import { statSync } from 'node:fs';
import { buildImage } from '../local/image.js';

const started = Date.now();
const image = await buildImage();
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
console.log(
  `built ${image.tag} in ${((Date.now() - started) / 1000).toFixed(1)} s (base ${image.baseCached ? 'cached' : `made in ${(image.timingsMs.base / 1000).toFixed(1)} s`}); ${image.archive}: ${mb(statSync(image.archive).size)} MB`,
);
console.log(JSON.stringify(image.timingsMs));
