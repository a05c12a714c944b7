// The webhook's TLS without cert-manager: its CA and serving certificate live in a Secret the chart creates empty;
// every replica looks at it on a short period, takes the next step the pure planner (api/webhook-tls.ts) names —
// writing the Secret with its resourceVersion, so of two replicas one wins and the other reads the result — makes
// both webhook configurations trust the Secret's bundle, and serves the Secret's certificate.
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import {
  nextTlsStep,
  servingLifetimeMs,
  type CertificateFacts,
  type ServingFacts,
  type WebhookTlsPolicy,
  type WebhookTlsState,
  type WebhookTlsStep,
} from '../api/webhook-tls.js';
import { isConflict, objectPath, type KubeClient, type KubeObject } from '../kube/client.js';
import {
  createUniqueCertificateAuthority,
  generateKeys,
  issueServingCertificate,
  type CertificateAuthority,
} from './certs.js';
import type { CertificateSource, ServingCertificate } from './tls.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const CHANGED_AT = 'flink-operator-ts/tls-changed-at';

export interface SelfProvisionedTlsOptions {
  client: KubeClient;
  namespace: string;
  secretName: string;
  mutatingWebhookConfiguration: string;
  validatingWebhookConfiguration: string;
  policy: WebhookTlsPolicy;
  /** How often each replica looks at the Secret; the policy's propagation time must exceed it. */
  pollMs: number;
  log: Logger;
}

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

interface WebhookConfiguration extends KubeObject {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

/** The Secret's PEMs by key, decoded. */
type Material = Partial<
  Record<'ca.crt' | 'ca.key' | 'next-ca.crt' | 'next-ca.key' | 'ca-bundle.crt' | 'tls.crt' | 'tls.key', string>
>;

export class SelfProvisionedTls implements CertificateSource {
  private serving: ServingCertificate | undefined;
  private readonly listeners: ((pair: ServingCertificate) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: SelfProvisionedTlsOptions) {}

  /** Resolves once a certificate is in the Secret and trusted by both configurations; looks again on its period. */
  async start(): Promise<void> {
    for (;;) {
      try {
        await this.pass();
        break;
      } catch (err) {
        this.options.log.warn({ reason: (err as Error).message }, 'webhook TLS not ready; trying again');
        await new Promise((r) => setTimeout(r, Math.min(this.options.pollMs, 2000)));
      }
    }
    this.schedule(this.options.pollMs);
  }

  current(): ServingCertificate {
    if (!this.serving) throw new Error('webhook TLS is not provisioned yet');
    return this.serving;
  }

  onChange(listener: (pair: ServingCertificate) => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(inMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass().then(
        (next) => this.schedule(next),
        (err: Error) => {
          this.options.log.warn(
            { reason: err.message },
            'webhook TLS check failed; still serving the current certificate',
          );
          this.schedule(this.options.pollMs);
        },
      );
    }, inMs);
  }

  /** Steps until the planner says keep (at most a few), publishes the bundle, serves the certificate; ms to the next look. */
  private async pass(): Promise<number> {
    const { client, namespace, secretName, policy } = this.options;
    const path = objectPath('v1', 'secrets', namespace, secretName);
    for (let attempt = 0; ; attempt++) {
      const secret = await client.get<SecretObject>(path);
      const material = decode(secret.data);
      const now = Date.now();
      const step = nextTlsStep(stateOf(material, secret), policy, now);
      if (step.kind === 'keep') {
        await this.publish(material['ca-bundle.crt']!);
        this.serve({ cert: material['tls.crt']!, key: material['tls.key']! });
        return Math.max(100, Math.min(this.options.pollMs, step.recheckAt - now));
      }
      if (attempt >= 6) throw new Error(`no settled certificate after ${attempt} steps (last: ${step.kind})`);
      const next = await this.take(step, material, now);
      this.options.log.info({ step: step.kind, ...('why' in step ? { why: step.why } : {}) }, 'webhook TLS step');
      try {
        await client.replace<SecretObject>(path, {
          ...secret,
          metadata: {
            ...secret.metadata,
            annotations: { ...secret.metadata?.annotations, [CHANGED_AT]: new Date(now).toISOString() },
          },
          data: encode(next),
        });
      } catch (err) {
        if (!isConflict(err)) throw err; // another replica stepped first: read what it wrote
      }
    }
  }

  private async take(
    step: Exclude<WebhookTlsStep, { kind: 'keep' }>,
    material: Material,
    now: number,
  ): Promise<Material> {
    const { policy } = this.options;
    const newCa = async (): Promise<CertificateAuthority> =>
      createUniqueCertificateAuthority(
        'flink-operator-ts webhook CA',
        policy.caLifetimeMs / DAY_MS,
        new Date(now),
        await generateKeys(),
      );
    const serving = async (ca: CertificateAuthority): Promise<Material> => {
      const pair = issueServingCertificate(
        ca,
        policy.hosts,
        servingLifetimeMs(certificateFacts(ca.certPem), policy, now) / DAY_MS,
        new Date(now),
        await generateKeys(),
      );
      return { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem };
    };
    const current = (): CertificateAuthority => ({ certPem: material['ca.crt']!, keyPem: material['ca.key']! });
    const { 'next-ca.crt': _nextCert, 'next-ca.key': _nextKey, ...withoutNext } = material;
    switch (step.kind) {
      case 'new-ca': {
        const ca = await newCa();
        return { 'ca.crt': ca.certPem, 'ca.key': ca.keyPem, 'ca-bundle.crt': ca.certPem, ...(await serving(ca)) };
      }
      case 'add-next-ca': {
        const next = await newCa();
        return {
          ...material,
          'next-ca.crt': next.certPem,
          'next-ca.key': next.keyPem,
          'ca-bundle.crt': `${material['ca-bundle.crt']!.trim()}\n${next.certPem}`,
        };
      }
      case 'promote-next-ca': {
        const ca = { certPem: material['next-ca.crt']!, keyPem: material['next-ca.key']! };
        return { ...withoutNext, 'ca.crt': ca.certPem, 'ca.key': ca.keyPem, ...(await serving(ca)) };
      }
      case 'trim-bundle':
        return {
          ...material,
          'ca-bundle.crt': splitPem(material['ca-bundle.crt'])
            .filter((pem) => step.keep.includes(certificateFacts(pem).id))
            .join(''),
        };
      case 'issue-serving':
        return { ...material, ...(await serving(current())) };
    }
  }

  /** Makes every webhook of both configurations trust the bundle: a JSON patch that tests each webhook's name first. */
  private async publish(bundlePem: string): Promise<void> {
    const caBundle = Buffer.from(bundlePem).toString('base64');
    const { client, mutatingWebhookConfiguration, validatingWebhookConfiguration } = this.options;
    for (const [plural, name] of [
      ['mutatingwebhookconfigurations', mutatingWebhookConfiguration],
      ['validatingwebhookconfigurations', validatingWebhookConfiguration],
    ] as const) {
      const path = objectPath('admissionregistration.k8s.io/v1', plural, '', name);
      const configuration = await client.get<WebhookConfiguration>(path);
      const patch = (configuration.webhooks ?? []).flatMap((w, i) =>
        w.clientConfig?.caBundle === caBundle
          ? []
          : [
              { op: 'test', path: `/webhooks/${i}/name`, value: w.name },
              { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle },
            ],
      );
      if (patch.length === 0) continue;
      await client.patch(path, 'json', patch);
      this.options.log.info({ configuration: name }, 'caBundle published');
    }
  }

  private serve(pair: ServingCertificate): void {
    if (this.serving?.cert === pair.cert && this.serving.key === pair.key) return;
    const first = !this.serving;
    this.serving = pair;
    if (!first) for (const listener of this.listeners) listener(pair);
  }
}

function stateOf(material: Material, secret: SecretObject): WebhookTlsState {
  const parse = (pem: string | undefined, key: string | undefined) =>
    pem && key ? new X509Certificate(pem) : undefined;
  const ca = parse(material['ca.crt'], material['ca.key']);
  const nextCa = parse(material['next-ca.crt'], material['next-ca.key']);
  const changedAt = Date.parse(secret.metadata?.annotations?.[CHANGED_AT] ?? '');
  return {
    ...(ca ? { ca: facts(ca) } : {}),
    ...(nextCa ? { nextCa: facts(nextCa) } : {}),
    bundle: splitPem(material['ca-bundle.crt']).map(certificateFacts),
    ...(Number.isFinite(changedAt) ? { changedAt } : {}),
    ...(material['tls.crt'] && material['tls.key']
      ? { serving: servingFacts(new X509Certificate(material['tls.crt']), [ca, nextCa]) }
      : {}),
  };
}

const facts = (cert: X509Certificate): CertificateFacts => ({
  id: cert.fingerprint256,
  notBefore: Date.parse(cert.validFrom),
  notAfter: Date.parse(cert.validTo),
});

const certificateFacts = (pem: string): CertificateFacts => facts(new X509Certificate(pem));

function servingFacts(cert: X509Certificate, cas: (X509Certificate | undefined)[]): ServingFacts {
  const hosts = (cert.subjectAltName ?? '').split(', ').flatMap((entry) => {
    const [type, value] = [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)];
    return type === 'DNS' || type === 'IP Address' ? [value] : [];
  });
  const issuer = cas.find((ca) => ca && cert.checkIssued(ca) && cert.verify(ca.publicKey));
  return { ...facts(cert), hosts, issuerId: issuer?.fingerprint256 ?? 'unknown' };
}

function splitPem(bundle: string | undefined): string[] {
  return (bundle ?? '')
    .split(/(?<=-----END CERTIFICATE-----)\s*/)
    .filter((pem) => pem.includes('BEGIN CERTIFICATE'))
    .map((pem) => `${pem.trim()}\n`);
}

function decode(data: Record<string, string> | undefined): Material {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

function encode(material: Material): Record<string, string> {
  return Object.fromEntries(Object.entries(material).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
}
