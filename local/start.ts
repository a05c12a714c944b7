// npm start: the local stack. For now the admission webhook alone, with a local CA under .local/certs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueCertificates } from '../webhook/certs.js';
import { mkdirSync, writeFileSync } from 'node:fs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const certDir = join(repoRoot, '.local/certs');
if (!existsSync(join(certDir, 'tls.crt'))) {
  const { ca, serving } = issueCertificates(['localhost', '127.0.0.1'], 365);
  mkdirSync(certDir, { recursive: true });
  writeFileSync(join(certDir, 'ca.crt'), ca.certPem);
  writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
  writeFileSync(join(certDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
}
const port = process.env.WEBHOOK_PORT ?? '9443';
console.log(`admission webhook on https://127.0.0.1:${port} (CA: .local/certs/ca.crt); try:
  curl --cacert .local/certs/ca.crt https://127.0.0.1:${port}/healthz
  curl --cacert .local/certs/ca.crt https://127.0.0.1:${port}/metrics`);
const child = spawn(process.execPath, [join(repoRoot, 'dist/webhook/main.js'), '--port', port, '--bind-address', '127.0.0.1', '--tls-cert-file', join(certDir, 'tls.crt'), '--tls-private-key-file', join(certDir, 'tls.key')], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));
