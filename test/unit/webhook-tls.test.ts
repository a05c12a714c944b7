// The webhook's self-provisioned TLS, step by step: a fresh install, a serving certificate renewed two thirds into its
// life, a CA renewed by trusting its successor before signing with it. Expected steps written by hand.
import { expect } from 'chai';
import {
  nextTlsStep,
  renewalAt,
  servingLifetimeMs,
  type WebhookTlsPolicy,
  type WebhookTlsState,
} from '../../api/webhook-tls.js';

const S = 1000;
const HOUR = 3600 * S;
const policy: WebhookTlsPolicy = {
  caLifetimeMs: 300 * HOUR,
  servingLifetimeMs: 30 * HOUR,
  hosts: ['wh.ops.svc'],
  propagationMs: 60 * S,
};
const ca = { id: 'ca1', notBefore: 0, notAfter: 300 * HOUR };
const ca2 = { id: 'ca2', notBefore: 200 * HOUR, notAfter: 500 * HOUR };
const serving = (over: Partial<WebhookTlsState['serving']> = {}) => ({
  id: 's1',
  notBefore: 10 * HOUR,
  notAfter: 40 * HOUR,
  issuerId: 'ca1',
  hosts: ['wh.ops.svc'],
  ...over,
});
const steady: WebhookTlsState = { ca, bundle: [ca], changedAt: 10 * HOUR, serving: serving() };

describe('webhook TLS without cert-manager: the next step', () => {
  const cases: [string, WebhookTlsState, number, ReturnType<typeof nextTlsStep>][] = [
    ['a fresh install: a CA of its own', { bundle: [] }, 0, { kind: 'new-ca', why: 'no CA yet' }],
    [
      'a CA that expired (the webhook was down for its whole renewal window)',
      steady,
      300 * HOUR,
      { kind: 'new-ca', why: 'the CA has expired' },
    ],
    [
      "a CA ending before a successor could be trusted (another install's short-lived one): replaced at once",
      steady,
      300 * HOUR - 30 * S,
      { kind: 'new-ca', why: 'the CA ends before a successor could be trusted' },
    ],
    [
      '…unless its successor is trusted everywhere already',
      {
        ca,
        nextCa: ca2,
        bundle: [ca, ca2],
        changedAt: 200 * HOUR,
        serving: serving({ notBefore: 190 * HOUR, notAfter: 220 * HOUR }),
      },
      300 * HOUR - 30 * S,
      { kind: 'promote-next-ca' },
    ],
    [
      'a bundle someone replaced by hand',
      { ...steady, bundle: [ca2] },
      11 * HOUR,
      { kind: 'new-ca', why: 'the published bundle does not trust the CA' },
    ],
    [
      'a CA without a serving certificate yet',
      { ...steady, serving: undefined },
      11 * HOUR,
      { kind: 'issue-serving', why: 'no serving certificate yet' },
    ],
    [
      'steady: look again when the serving certificate is due',
      steady,
      11 * HOUR,
      { kind: 'keep', recheckAt: 30 * HOUR },
    ],
    [
      'a serving certificate two thirds into its life',
      steady,
      30 * HOUR,
      { kind: 'issue-serving', why: 'the serving certificate is two thirds into its life' },
    ],
    [
      'a Service renamed',
      steady,
      11 * HOUR,
      { kind: 'issue-serving', why: 'the serving certificate is not for wh2.ops.svc' },
    ],
    [
      'a CA two thirds into its life: its successor trusted first',
      { ...steady, serving: serving({ notBefore: 190 * HOUR, notAfter: 220 * HOUR }) },
      200 * HOUR,
      { kind: 'add-next-ca' },
    ],
    [
      'the successor trusted, not yet everywhere: wait',
      {
        ca,
        nextCa: ca2,
        bundle: [ca, ca2],
        changedAt: 200 * HOUR,
        serving: serving({ notBefore: 190 * HOUR, notAfter: 220 * HOUR }),
      },
      200 * HOUR + 30 * S,
      { kind: 'keep', recheckAt: 200 * HOUR + 60 * S },
    ],
    [
      'the successor trusted everywhere: it signs now',
      {
        ca,
        nextCa: ca2,
        bundle: [ca, ca2],
        changedAt: 200 * HOUR,
        serving: serving({ notBefore: 190 * HOUR, notAfter: 220 * HOUR }),
      },
      200 * HOUR + 60 * S,
      { kind: 'promote-next-ca' },
    ],
    [
      'promoted: the serving certificate follows',
      {
        ca: ca2,
        bundle: [ca, ca2],
        changedAt: 201 * HOUR,
        serving: serving({ notBefore: 190 * HOUR, notAfter: 220 * HOUR }),
      },
      201 * HOUR,
      { kind: 'issue-serving', why: 'the serving certificate is not signed by the current CA' },
    ],
    [
      'the old CA expired: out of the bundle',
      {
        ca: ca2,
        bundle: [ca, ca2],
        changedAt: 201 * HOUR,
        serving: serving({ issuerId: 'ca2', notBefore: 290 * HOUR, notAfter: 320 * HOUR }),
      },
      300 * HOUR,
      { kind: 'trim-bundle', keep: ['ca2'] },
    ],
  ];
  for (const [name, state, now, expected] of cases) {
    it(name, () => {
      const hosts = name === 'a Service renamed' ? ['wh.ops.svc', 'wh2.ops.svc'] : policy.hosts;
      expect(nextTlsStep(state, { ...policy, hosts }, now)).to.deep.equal(expected);
    });
  }

  it('renews two thirds into a life, and never issues a serving certificate that outlives its CA', () => {
    expect(renewalAt({ id: 'x', notBefore: 0, notAfter: 90 * S })).to.equal(60 * S);
    expect(servingLifetimeMs(ca, policy, 0)).to.equal(30 * HOUR);
    expect(servingLifetimeMs(ca, policy, 290 * HOUR)).to.equal(10 * HOUR);
  });
});
