// The local cluster's certificates: one CA for serving and client certificates, a service-account signing key,
// and a client certificate per identity (CN = user, O = groups), as kubeadm would lay them out.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUniqueCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../webhook/certs.js';

const DAYS = 365;

export interface Identity {
  /** File stem of its certificate and kubeconfig. */
  name: string;
  user: string;
  groups: string[];
}

export const LOCAL_OPERATOR_NAMESPACE = 'flink-operator-ts';

/** Who acts in the local cluster; the webhook and the operator carry the service-account names the chart gives them. */
export const IDENTITIES = {
  admin: { name: 'admin', user: 'flink-operator-ts:admin', groups: ['system:masters'] },
  controllerManager: { name: 'kube-controller-manager', user: 'system:kube-controller-manager', groups: [] },
  scheduler: { name: 'kube-scheduler', user: 'system:kube-scheduler', groups: [] },
  // kwok plays every kubelet of the simulated nodes.
  kwok: { name: 'kwok', user: 'kwok-controller', groups: ['system:masters'] },
  // The API server calling a kubelet (pods/log), as kubeadm names it.
  apiServerKubeletClient: {
    name: 'apiserver-kubelet-client',
    user: 'kube-apiserver-kubelet-client',
    groups: ['system:masters'],
  },
  webhook: serviceAccount('flink-operator-ts-webhook'),
  operator: serviceAccount('flink-operator-ts-operator'),
} satisfies Record<string, Identity>;

function serviceAccount(name: string): Identity {
  return {
    name,
    user: `system:serviceaccount:${LOCAL_OPERATOR_NAMESPACE}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${LOCAL_OPERATOR_NAMESPACE}`, 'system:authenticated'],
  };
}

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  /** The simulated nodes' kubelet endpoint (the JobManagers' logs), on the loopback. */
  kubeletServing: { cert: string; key: string };
  serviceAccountKey: string;
  serviceAccountPub: string;
  clientCert(identity: Identity): { cert: string; key: string };
}

const API_SERVER_HOSTS = [
  'localhost',
  '127.0.0.1',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  '10.0.0.1',
];

/** Creates what is missing under `dir` and returns the file paths; an existing PKI is reused (fast warm starts). */
export function ensurePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = (file: string) => join(dir, file);
  let ca: CertificateAuthority;
  if (existsSync(path('ca.crt')) && existsSync(path('ca.key'))) {
    ca = { certPem: readFileSync(path('ca.crt'), 'utf8'), keyPem: readFileSync(path('ca.key'), 'utf8') };
  } else {
    ca = createUniqueCertificateAuthority('flink-operator-ts local cluster CA', DAYS);
    writeFileSync(path('ca.crt'), ca.certPem);
    writeFileSync(path('ca.key'), ca.keyPem, { mode: 0o600 });
  }
  const leaf = (stem: string, make: () => { certPem: string; keyPem: string }) => {
    if (!existsSync(path(`${stem}.crt`)) || !existsSync(path(`${stem}.key`))) {
      const issued = make();
      writeFileSync(path(`${stem}.crt`), issued.certPem);
      writeFileSync(path(`${stem}.key`), issued.keyPem, { mode: 0o600 });
    }
    return { cert: path(`${stem}.crt`), key: path(`${stem}.key`) };
  };
  const serving = leaf('apiserver', () =>
    issueCertificate(ca, { commonName: 'kube-apiserver', hosts: API_SERVER_HOSTS, usage: 'server' }, DAYS),
  );
  if (!existsSync(path('sa.key'))) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path('sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(path('sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  return {
    dir,
    caCert: path('ca.crt'),
    caKey: path('ca.key'),
    servingCert: serving.cert,
    servingKey: serving.key,
    kubeletServing: leaf('kubelet', () =>
      issueCertificate(ca, { commonName: 'kwok-node', hosts: ['127.0.0.1', 'localhost'], usage: 'server' }, DAYS),
    ),
    serviceAccountKey: path('sa.key'),
    serviceAccountPub: path('sa.pub'),
    clientCert: (identity) =>
      leaf(`user-${identity.name}`, () =>
        issueCertificate(ca, { commonName: identity.user, organizations: identity.groups, usage: 'client' }, DAYS),
      ),
  };
}

/** A kubeconfig for one identity, with its certificate inline so the file stands alone. */
export function kubeconfigFor(pki: Pki, identity: Identity, server: string): string {
  const { cert, key } = pki.clientCert(identity);
  const b64 = (file: string) => Buffer.from(readFileSync(file)).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: flink-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    'users:',
    `- name: ${identity.name}`,
    '  user:',
    `    client-certificate-data: ${b64(cert)}`,
    `    client-key-data: ${b64(key)}`,
    'contexts:',
    '- name: flink-local',
    '  context:',
    '    cluster: flink-local',
    `    user: ${identity.name}`,
    'current-context: flink-local',
    '',
  ].join('\n');
}
