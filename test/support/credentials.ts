// Credentials as a real cluster hands them out: bound ServiceAccount tokens (TokenRequest, invalidated when the
// object they are bound to is deleted), kubeconfigs that read a token file or run an `exec` plugin.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IDENTITIES, LOCAL_OPERATOR_NAMESPACE } from '../../local/control-plane/pki.js';
import { kubectl, localStack } from './stack.js';

/** A token of the operator's ServiceAccount bound to a Secret made for it: deleting the Secret revokes the token. */
export async function boundOperatorToken(secretName: string): Promise<{ token: string; jti: string }> {
  const ns = LOCAL_OPERATOR_NAMESPACE;
  const made = await kubectl(['create', 'secret', 'generic', secretName, '-n', ns]);
  if (made.code !== 0) throw new Error(made.stderr);
  const account = IDENTITIES.operator.user.split(':').pop()!;
  const created = await kubectl([
    'create',
    'token',
    account,
    '-n',
    ns,
    '--bound-object-kind',
    'Secret',
    '--bound-object-name',
    secretName,
    '--duration',
    '1h',
  ]);
  if (created.code !== 0) throw new Error(created.stderr);
  const token = created.stdout.trim();
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti?: string };
  return { token, jti: claims.jti! };
}

/** A kubeconfig for the local API server whose user is `user` (a kubeconfig `users[].user` entry). */
export async function kubeconfigWith(file: string, user: Record<string, unknown>): Promise<string> {
  const stack = await localStack();
  const ca = Buffer.from(readFileSync(stack.controlPlane.pki.caCert)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server: stack.controlPlane.server, 'certificate-authority-data': ca } }],
    users: [{ name: 'operator', user }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'operator' } }],
    'current-context': 'local',
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/**
 * An `exec` credential plugin as EKS, GKE and AKS kubeconfigs use: a script that prints an ExecCredential with the
 * token in `tokenFile`, valid for `lifetimeSeconds`, and counts its runs in `<dir>/exec-calls`.
 */
export function execPlugin(
  dir: string,
  tokenFile: string,
  lifetimeSeconds: number,
): { command: string; calls: () => number } {
  const command = join(dir, 'credential-plugin.sh');
  const counter = join(dir, 'exec-calls');
  writeFileSync(counter, '');
  writeFileSync(
    command,
    [
      '#!/bin/sh',
      `echo run >> '${counter}'`,
      `expires=$(date -u -d "+${lifetimeSeconds} seconds" +%Y-%m-%dT%H:%M:%SZ)`,
      `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$(cat '${tokenFile}')" "$expires"`,
      '',
    ].join('\n'),
  );
  chmodSync(command, 0o755);
  return { command, calls: () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
}
