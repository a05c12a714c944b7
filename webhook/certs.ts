// A private CA and a serving certificate signed by it, made with node-forge — for local use and for
// self-provisioned webhook TLS when cert-manager is not there.
import forge from 'node-forge';
import { isIP } from 'node:net';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface IssuedCertificates {
  ca: CertificateAuthority;
  serving: { certPem: string; keyPem: string };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** An RSA key pair made by OpenSSL on libuv's thread pool: node-forge's own takes the event loop for a second. */
export async function generateKeys(): Promise<forge.pki.rsa.KeyPair> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const forgeKey = forge.pki.privateKeyFromPem(
    privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  ) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

/** `days` may be a fraction (a test's short-lived certificates); `keys` default to a pair made here, synchronously. */
export function createCertificateAuthority(
  commonName: string,
  days: number,
  now = new Date(),
  keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }),
): CertificateAuthority {
  const cert = baseCertificate(keys.publicKey, days, now);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

export interface LeafOptions {
  commonName: string;
  /** Subject organizations: the groups of a Kubernetes client certificate. */
  organizations?: string[];
  /** DNS names or IP addresses a serving certificate is for. */
  hosts?: string[];
  usage: 'server' | 'client';
}

/** A leaf certificate signed by `ca`: a TLS server's (with `hosts`) or a client's (CN = user, O = groups). */
export function issueCertificate(
  ca: CertificateAuthority,
  options: LeafOptions,
  days: number,
  now = new Date(),
  keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }),
): { certPem: string; keyPem: string } {
  const hosts = options.hosts ?? [];
  if (options.usage === 'server' && hosts.length === 0)
    throw new Error('a serving certificate needs at least one host');
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const cert = baseCertificate(keys.publicKey, days, now);
  cert.setSubject([
    { name: 'commonName', value: options.commonName },
    ...(options.organizations ?? []).map((value) => ({ name: 'organizationName', value })),
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    options.usage === 'server' ? { name: 'extKeyUsage', serverAuth: true } : { name: 'extKeyUsage', clientAuth: true },
    ...(hosts.length > 0
      ? [{ name: 'subjectAltName', altNames: hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) }]
      : []),
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function issueServingCertificate(
  ca: CertificateAuthority,
  hosts: string[],
  days: number,
  now = new Date(),
  keys?: forge.pki.rsa.KeyPair,
): { certPem: string; keyPem: string } {
  return issueCertificate(ca, { commonName: hosts[0] ?? '', hosts, usage: 'server' }, days, now, keys);
}

/** A CA with a name of its own: a bundle holding an old and a new CA during rotation must tell them apart. */
export function createUniqueCertificateAuthority(
  purpose: string,
  days: number,
  now = new Date(),
  keys?: forge.pki.rsa.KeyPair,
): CertificateAuthority {
  return createCertificateAuthority(
    `${purpose} ${now.toISOString()} ${randomBytes(4).toString('hex')}`,
    days,
    now,
    keys,
  );
}

export function issueCertificates(hosts: string[], days: number, now = new Date()): IssuedCertificates {
  const ca = createUniqueCertificateAuthority('flink-operator-ts webhook CA', days, now);
  return { ca, serving: issueServingCertificate(ca, hosts, days, now) };
}

function baseCertificate(publicKey: forge.pki.PublicKey, days: number, now: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`; // positive, 128 bits of randomness
  // Valid a little before now for clock skew: five minutes, or a tenth of a short life.
  cert.validity.notBefore = new Date(now.getTime() - Math.min(5 * 60 * 1000, (days * DAY_MS) / 10));
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
  return cert;
}
