// Snapshots while a job runs (upstream SnapshotUtils, legacy status mode): what triggers one, one of a kind at a
// time, what a finished one leaves in status, and which savepoints age out — expected values written by hand.
import { expect } from 'chai';
import {
  planSnapshots,
  recordNonces,
  withReconciledNonces,
  type SnapshotInput,
} from '../../api/reconcile/snapshots.js';
import { readSpecEnvelope, writeSpecEnvelope } from '../../api/spec-envelope.js';

const NOW = 1_000_000;
/** These cases are the legacy status mode; snapshot resources are the default (see state-snapshot.test.ts). */
const LEGACY = { 'kubernetes.operator.snapshot.resource.enabled': 'false' };
const ID = 'a'.repeat(32);

const input = (
  over: Partial<SnapshotInput> & { nonce?: number; reconciledNonce?: number; conf?: Record<string, string> } = {},
): SnapshotInput => ({
  job: { jobId: 'f'.repeat(32), state: 'RUNNING', startTime: String(NOW - 5000) },
  spec: { job: { savepointTriggerNonce: over.nonce } },
  reconciled: { job: { savepointTriggerNonce: over.reconciledNonce } },
  now: NOW,
  progress: [],
  tasksRunning: true,
  newTriggerId: ID,
  ...over,
  conf: { ...LEGACY, ...over.conf },
});

describe('snapshots while a job runs', () => {
  it('a changed nonce triggers one MANUAL savepoint under the planned trigger id, and records the nonce', () => {
    const step = planSnapshots(input({ nonce: 7, reconciledNonce: 6 }));
    expect(step.actions).to.deep.equal([
      { kind: 'trigger-snapshot', snapshot: 'savepoint', jobId: 'f'.repeat(32), triggerId: ID },
    ]);
    expect(step.job.savepointInfo).to.deep.include({
      triggerId: ID,
      triggerTimestamp: NOW,
      triggerType: 'MANUAL',
      formatType: 'CANONICAL',
    });
    expect(step.nonces).to.deep.equal({ savepointTriggerNonce: 7 });
  });

  it('nothing when the nonce was acted on, when it is null, when the job does not run or its tasks do not all run yet; and nothing is written for nothing', () => {
    const cases = [
      input({ nonce: 7, reconciledNonce: 7 }),
      input(),
      { ...input({ nonce: 8 }), job: { jobId: 'f'.repeat(32), state: 'RESTARTING' as const } },
      { ...input({ nonce: 8 }), tasksRunning: false },
    ];
    for (const i of cases) {
      const step = planSnapshots(i);
      expect(step.actions).to.deep.equal([]);
      expect(step.job.savepointInfo).to.equal(undefined);
      expect(step.job.checkpointInfo).to.equal(undefined);
    }
  });

  it('one at a time: a nonce bumped while a savepoint is in flight waits', () => {
    const i = input({ nonce: 9, reconciledNonce: 8 });
    i.job.savepointInfo = { triggerId: 'b'.repeat(32), triggerTimestamp: NOW - 1000, triggerType: 'MANUAL' };
    i.progress = [{ kind: 'savepoint', triggerId: 'b'.repeat(32), state: 'pending' }];
    const step = planSnapshots(i);
    expect(step.actions).to.deep.equal([]);
    expect(step.nonces).to.deep.equal({});
  });

  it('a completed savepoint becomes lastSavepoint and joins the history, with the nonce it was taken for', () => {
    const i = input({ nonce: 8, reconciledNonce: 8 });
    i.job.savepointInfo = {
      triggerId: ID,
      triggerTimestamp: NOW - 1000,
      triggerType: 'MANUAL',
      formatType: 'CANONICAL',
    };
    i.progress = [{ kind: 'savepoint', triggerId: ID, state: 'completed', location: 'file:/sp/savepoint-1' }];
    const step = planSnapshots(i);
    const saved = {
      timeStamp: NOW,
      triggerType: 'MANUAL',
      triggerNonce: 8,
      location: 'file:/sp/savepoint-1',
      formatType: 'CANONICAL',
    };
    expect(step.job.savepointInfo).to.deep.equal({ lastSavepoint: saved, savepointHistory: [saved] });
    expect(step.events).to.deep.equal([
      { type: 'Normal', reason: 'SavepointCompleted', message: 'Savepoint completed: file:/sp/savepoint-1' },
    ]);
  });

  it('a trigger Flink never heard of is asked for again under the same id; a failed one is cleared with a Warning', () => {
    const i = input();
    i.job.savepointInfo = { triggerId: ID, triggerType: 'MANUAL' };
    i.progress = [{ kind: 'savepoint', triggerId: ID, state: 'unknown' }];
    expect(planSnapshots(i).actions).to.deep.equal([
      { kind: 'trigger-snapshot', snapshot: 'savepoint', jobId: 'f'.repeat(32), triggerId: ID },
    ]);
    i.progress = [
      { kind: 'savepoint', triggerId: ID, state: 'failed', reason: 'Checkpoint Coordinator is suspending.' },
    ];
    const failed = planSnapshots(i);
    expect(failed.job.savepointInfo).to.deep.equal({});
    expect(failed.events).to.deep.equal([
      { type: 'Warning', reason: 'SavepointError', message: 'Savepoint failed: Checkpoint Coordinator is suspending.' },
    ]);
  });

  it('periodic savepoints and checkpoints every interval, counted from the last periodic one (or the job start)', () => {
    const conf = {
      'kubernetes.operator.periodic.savepoint.interval': '10 s',
      'kubernetes.operator.periodic.checkpoint.interval': '3 s',
    };
    const first = planSnapshots(input({ conf }));
    expect(first.actions.map((a) => a.kind === 'trigger-snapshot' && a.snapshot)).to.deep.equal(['checkpoint']);
    expect(first.job.checkpointInfo).to.deep.include({
      triggerType: 'PERIODIC',
      formatType: 'FULL',
      lastPeriodicCheckpointTimestamp: NOW,
    });
    const later = input({ conf });
    later.job.savepointInfo = { lastPeriodicSavepointTimestamp: NOW - 10_000 };
    later.job.checkpointInfo = { lastPeriodicCheckpointTimestamp: NOW - 2000 };
    const step = planSnapshots(later);
    expect(step.actions.map((a) => a.kind === 'trigger-snapshot' && a.snapshot)).to.deep.equal(['savepoint']);
    expect(step.job.savepointInfo).to.deep.include({ triggerType: 'PERIODIC', lastPeriodicSavepointTimestamp: NOW });
    expect(step.nonces).to.deep.equal({});
  });

  it('a manual checkpoint from checkpointTriggerNonce', () => {
    const i = input();
    i.spec = { job: { checkpointTriggerNonce: 3 } };
    const step = planSnapshots(i);
    expect(step.actions).to.deep.equal([
      { kind: 'trigger-snapshot', snapshot: 'checkpoint', jobId: 'f'.repeat(32), triggerId: ID },
    ]);
    expect(step.nonces).to.deep.equal({ checkpointTriggerNonce: 3 });
  });

  it('history beyond max.count or max.age is disposed, never the newest savepoint nor the one an upgrade restores from', () => {
    const at = (ageMs: number, n: number) => ({
      timeStamp: NOW - ageMs,
      location: `file:/sp/${n}`,
      triggerType: 'PERIODIC' as const,
    });
    const i = input({
      conf: {
        'kubernetes.operator.savepoint.history.max.count': '2',
        'kubernetes.operator.savepoint.history.max.age': '1 h',
      },
    });
    i.job.upgradeSavepointPath = 'file:/sp/1';
    i.job.savepointInfo = {
      lastSavepoint: at(1000, 5),
      savepointHistory: [at(9_000_000, 1), at(7_000, 2), at(5_000, 3), at(3_000, 4), at(1000, 5)],
    };
    const step = planSnapshots(i);
    expect(step.actions).to.deep.equal([{ kind: 'dispose-savepoints', paths: ['file:/sp/3', 'file:/sp/2'] }]);
    expect(step.job.savepointInfo?.savepointHistory?.map((s) => s.location)).to.deep.equal([
      'file:/sp/1',
      'file:/sp/4',
      'file:/sp/5',
    ]);
  });

  it('nonces are recorded in the last reconciled spec (and the stable one with it), and not by recording other changes', () => {
    const spec = writeSpecEnvelope({
      spec: { job: { state: 'running', savepointTriggerNonce: 1 } },
      apiVersion: 'flink.apache.org/v1beta1',
      firstDeployment: false,
    });
    const status = recordNonces(
      { reconciliationStatus: { lastReconciledSpec: spec, lastStableSpec: spec } },
      { savepointTriggerNonce: 2 },
    );
    expect(readSpecEnvelope(status.reconciliationStatus?.lastReconciledSpec)?.spec.job).to.deep.equal({
      state: 'running',
      savepointTriggerNonce: 2,
    });
    expect(status.reconciliationStatus?.lastStableSpec).to.equal(status.reconciliationStatus?.lastReconciledSpec);
    expect(
      withReconciledNonces(
        { job: { parallelism: 2, savepointTriggerNonce: 5, checkpointTriggerNonce: 1 } },
        { job: { savepointTriggerNonce: 4 } },
      ),
    ).to.deep.equal({ job: { parallelism: 2, savepointTriggerNonce: 4 } });
  });
});
