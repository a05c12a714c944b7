// The webhook's own TLS when cert-manager is not there: one step at a time towards a serving certificate the API
// server trusts, decided from what the Secret holds and the clock. A CA is renewed by trusting its successor first
// (both in the caBundle), switching the serving certificate to it only once that bundle has had time to reach the
// API server and every webhook replica — so no admission fails while certificates change. Expired CAs leave the
// bundle; a serving certificate is renewed two thirds into its life, as cert-manager renews.

export interface CertificateFacts {
  /** SHA-256 fingerprint: which certificate this is. */
  id: string;
  notBefore: number;
  notAfter: number;
}

export interface ServingFacts extends CertificateFacts {
  /** The fingerprint of the CA that signed it. */
  issuerId: string;
  hosts: string[];
}

/** What the Secret holds, as facts. */
export interface WebhookTlsState {
  /** The CA that signs serving certificates. */
  ca?: CertificateFacts;
  /** Its successor, trusted but not signing yet. */
  nextCa?: CertificateFacts;
  /** The CAs in the published caBundle. */
  bundle: CertificateFacts[];
  /** When the bundle or the serving certificate last changed: what replicas and the API server may not have seen. */
  changedAt?: number;
  serving?: ServingFacts;
}

export interface WebhookTlsPolicy {
  caLifetimeMs: number;
  servingLifetimeMs: number;
  /** The DNS names the serving certificate is for (the Service's). */
  hosts: string[];
  /** How long a change takes to reach the API server and every replica (their reload period and then some). */
  propagationMs: number;
}

export type WebhookTlsStep =
  | { kind: 'new-ca'; why: string } // nothing usable: a CA, a bundle of it alone and a serving certificate
  | { kind: 'add-next-ca' } // trust the successor first
  | { kind: 'promote-next-ca' } // sign with the successor, now trusted everywhere
  | { kind: 'trim-bundle'; keep: string[] } // drop expired CAs
  | { kind: 'issue-serving'; why: string }
  | { kind: 'keep'; recheckAt: number };

/** Two thirds into a certificate's life: when it is renewed. */
export const renewalAt = (c: CertificateFacts): number =>
  c.notBefore + Math.floor(((c.notAfter - c.notBefore) * 2) / 3);

export function nextTlsStep(state: WebhookTlsState, policy: WebhookTlsPolicy, now: number): WebhookTlsStep {
  const { ca, nextCa, serving } = state;
  if (!ca || ca.notAfter <= now) return { kind: 'new-ca', why: ca ? 'the CA has expired' : 'no CA yet' };
  if (!state.bundle.some((b) => b.id === ca.id))
    return { kind: 'new-ca', why: 'the published bundle does not trust the CA' };
  const settled = (state.changedAt ?? 0) + policy.propagationMs;
  // A CA ending before a successor could be trusted everywhere (a webhook down for most of its life): waiting only
  // ensures a gap when it ends, and what it signs now would end with it — replace it at once.
  if (ca.notAfter <= now + policy.propagationMs && !(nextCa && now >= settled))
    return { kind: 'new-ca', why: 'the CA ends before a successor could be trusted' };
  const live = state.bundle.filter((b) => b.notAfter > now);
  if (live.length < state.bundle.length) return { kind: 'trim-bundle', keep: live.map((b) => b.id) };
  if (!nextCa && now >= renewalAt(ca)) return { kind: 'add-next-ca' };
  if (nextCa && now >= settled) return { kind: 'promote-next-ca' };
  const servingProblem = problemOf(serving, ca, policy, now);
  if (servingProblem) return { kind: 'issue-serving', why: servingProblem };
  const times = [
    renewalAt(serving!),
    ...(nextCa ? [settled] : [renewalAt(ca)]),
    ...state.bundle.map((b) => b.notAfter),
  ];
  return { kind: 'keep', recheckAt: Math.min(...times.filter((t) => t > now)) };
}

function problemOf(
  serving: ServingFacts | undefined,
  ca: CertificateFacts,
  policy: WebhookTlsPolicy,
  now: number,
): string | undefined {
  if (!serving) return 'no serving certificate yet';
  if (serving.issuerId !== ca.id) return 'the serving certificate is not signed by the current CA';
  const missing = policy.hosts.filter((h) => !serving.hosts.includes(h));
  if (missing.length > 0) return `the serving certificate is not for ${missing.join(', ')}`;
  if (now >= renewalAt(serving)) return 'the serving certificate is two thirds into its life';
  return undefined;
}

/** A serving certificate's lifetime: the policy's, never past its CA's end. */
export function servingLifetimeMs(ca: CertificateFacts, policy: WebhookTlsPolicy, now: number): number {
  return Math.max(0, Math.min(policy.servingLifetimeMs, ca.notAfter - now));
}
