// Runs after every other end-to-end suite (mocha loads files in name order; hence the name): the operator and the
// webhook ran all of them bound to exactly the chart's rules (charts/flink-operator-ts/files/rbac-rules.yaml), and
// the API server's audit log shows that the authorizer never had to refuse them — the rules are enough.
import { expect } from 'chai';
import { IDENTITIES } from '../../local/control-plane/pki.js';
import { auditEvents, settleAudit, type AuditEvent } from '../support/audit.js';
import { localStack } from '../support/stack.js';

describe('least privilege, proved by every end-to-end scenario', function () {
  this.timeout(120_000);

  it('no call of the operator or the webhook was forbidden by the authorizer', async () => {
    const stack = await localStack();
    await settleAudit();
    const ours = new Set([IDENTITIES.operator.user, IDENTITIES.webhook.user]);
    // kubectl run as these identities is a test probing what they may not do (control-plane.test.ts), not our code;
    // and right after an API server (re)start its RBAC caches are still filling and refuse what the rules allow.
    const restarting = (e: AuditEvent) =>
      stack.controlPlane.apiServerReadyAt.some(
        (ready) => Math.abs(Date.parse(e.requestReceivedTimestamp) - ready) < 10_000,
      );
    const calls = await auditEvents((e) => ours.has(e.user.username ?? '') && !e.userAgent?.startsWith('kubectl/'));
    expect(calls.length, 'the suites ran against this stack').to.be.greaterThan(100);
    const forbidden = calls.filter(
      (e) => e.annotations?.['authorization.k8s.io/decision'] === 'forbid' && !restarting(e),
    );
    expect(
      forbidden.map(
        (e) =>
          `${e.user.username} ${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} in ${e.objectRef?.namespace ?? '(cluster)'}`,
      ),
    ).to.deep.equal([]);
  });
});
