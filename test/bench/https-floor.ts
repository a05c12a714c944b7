// The floor the webhook is measured against: bare node:https, the same certificate and TLS settings, reading each
// request's body and answering it with a fixed AdmissionReview — everything a webhook must do but the review itself.
// Run as its own process (as the webhook is): `node https-floor.js <cert dir> <answer file> [parse]`; prints its port.
// With `parse` it also JSON.parses each body: the least any webhook that reads its review does.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { secureContextOptions } from '../../webhook/tls.js';

const [certDir, answerFile, mode] = process.argv.slice(2) as [string, string, string | undefined];
const answer = readFileSync(answerFile);
const server = createServer(
  {
    ...secureContextOptions({
      cert: readFileSync(join(certDir, 'tls.crt'), 'utf8'),
      key: readFileSync(join(certDir, 'tls.key'), 'utf8'),
    }),
    keepAliveTimeout: 30_000,
  },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => mode === 'parse' && chunks.push(chunk));
    req.on('end', () => {
      if (mode === 'parse') JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res
        .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': answer.length })
        .end(answer);
    });
  },
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
