// Expected states written by hand from upstream's CommonStatus#getLifecycleState (notes §2.2), not by the code under test.
import { expect } from 'chai';
import { deriveLifecycleState, type LifecycleState } from '../../api/lifecycle.js';
import type { FlinkDeploymentStatus } from '../../api/types.generated.js';

const spec = (jobState?: 'running' | 'suspended') =>
  JSON.stringify({
    spec: { job: jobState ? { state: jobState } : undefined, image: 'flink:2.2' },
    resource_metadata: { apiVersion: 'flink.apache.org/v1beta1', firstDeployment: false },
  });
const RUNNING = spec('running');
const SUSPENDED = spec('suspended');
const LEGACY_SUSPENDED = JSON.stringify({ apiVersion: 'flink.apache.org/v1beta1', job: { state: 'suspended' } });
const SESSION = spec();
const MANUAL_RESTORE = '{"type":"x","message":"Job cannot be upgraded. Manual restore required."}';
const FINISHED_OR_CM =
  'It is possible that the job has finished or terminally failed, or the configmaps have been deleted.';
const NO_HA = 'HA metadata is not available to restore from last state.';

type Row = [string, FlinkDeploymentStatus | undefined, LifecycleState, ('FlinkDeployment' | 'FlinkSessionJob')?];

const rows: Row[] = [
  ['no status at all', undefined, 'CREATED'],
  ['empty status', {}, 'CREATED'],
  ['stored DELETING wins over everything', { lifecycleState: 'DELETING', jobStatus: { state: 'FAILED' } }, 'DELETING'],
  ['stored DELETED wins over everything', { lifecycleState: 'DELETED' }, 'DELETED'],
  ['a stored non-deletion state is recomputed', { lifecycleState: 'STABLE' }, 'CREATED'],
  ['never deployed, empty error', { error: '' }, 'CREATED'],
  ['never deployed, with an error', { error: '{"message":"boom"}' }, 'FAILED'],
  [
    'deployed spec, no reconciliation state (Java default UPGRADING)',
    { reconciliationStatus: { lastReconciledSpec: RUNNING } },
    'UPGRADING',
  ],
  ['upgrading', { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'UPGRADING' } }, 'UPGRADING'],
  [
    'upgrading even when the job failed',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'UPGRADING' }, jobStatus: { state: 'FAILED' } },
    'UPGRADING',
  ],
  ['rolling back', { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'ROLLING_BACK' } }, 'ROLLING_BACK'],
  ['suspended spec', { reconciliationStatus: { lastReconciledSpec: SUSPENDED, state: 'DEPLOYED' } }, 'SUSPENDED'],
  [
    'suspended spec in the legacy bare form',
    { reconciliationStatus: { lastReconciledSpec: LEGACY_SUSPENDED, state: 'DEPLOYED' } },
    'SUSPENDED',
  ],
  [
    'suspended wins over a failed job',
    { reconciliationStatus: { lastReconciledSpec: SUSPENDED, state: 'DEPLOYED' }, jobStatus: { state: 'FAILED' } },
    'SUSPENDED',
  ],
  [
    'suspended wins over rolled back',
    { reconciliationStatus: { lastReconciledSpec: SUSPENDED, state: 'ROLLED_BACK' } },
    'SUSPENDED',
  ],
  [
    'unparseable reconciled spec is not suspended',
    { reconciliationStatus: { lastReconciledSpec: '{not json', state: 'DEPLOYED' } },
    'DEPLOYED',
  ],
  [
    'failed job',
    {
      reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED', lastStableSpec: RUNNING },
      jobStatus: { state: 'FAILED' },
    },
    'FAILED',
  ],
  [
    'failed job after a rollback',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'ROLLED_BACK' }, jobStatus: { state: 'FAILED' } },
    'FAILED',
  ],
  [
    'JM missing + manual restore required',
    {
      reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED' },
      jobManagerDeploymentStatus: 'MISSING',
      error: MANUAL_RESTORE,
    },
    'FAILED',
  ],
  [
    'JM error + job finished or configmaps deleted',
    {
      reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED' },
      jobManagerDeploymentStatus: 'ERROR',
      error: FINISHED_OR_CM,
    },
    'FAILED',
  ],
  [
    'JM status absent (MISSING) + HA metadata not available',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED' }, error: NO_HA },
    'FAILED',
  ],
  [
    'JM ready + a terminal marker is not failed',
    {
      reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED' },
      jobManagerDeploymentStatus: 'READY',
      error: MANUAL_RESTORE,
    },
    'DEPLOYED',
  ],
  [
    'JM missing + an ordinary error is not failed',
    {
      reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED' },
      jobManagerDeploymentStatus: 'MISSING',
      error: 'Missing JobManager deployment',
    },
    'DEPLOYED',
  ],
  [
    'JM missing + no error is not failed',
    {
      reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED', lastStableSpec: RUNNING },
      jobManagerDeploymentStatus: 'MISSING',
    },
    'STABLE',
  ],
  [
    'a session job ignores the JM markers',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED' }, error: MANUAL_RESTORE },
    'DEPLOYED',
    'FlinkSessionJob',
  ],
  [
    'rolled back',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'ROLLED_BACK', lastStableSpec: RUNNING } },
    'ROLLED_BACK',
  ],
  [
    'deployed and stable (string-equal specs)',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED', lastStableSpec: RUNNING } },
    'STABLE',
  ],
  [
    'session cluster stable',
    { reconciliationStatus: { lastReconciledSpec: SESSION, state: 'DEPLOYED', lastStableSpec: SESSION } },
    'STABLE',
  ],
  [
    'deployed, no stable spec yet',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED' } },
    'DEPLOYED',
  ],
  [
    'deployed, stable spec differs',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED', lastStableSpec: SESSION } },
    'DEPLOYED',
  ],
  [
    'equal as JSON but not as strings is not stable (upstream compares strings)',
    { reconciliationStatus: { lastReconciledSpec: RUNNING, state: 'DEPLOYED', lastStableSpec: ` ${RUNNING}` } },
    'DEPLOYED',
  ],
];

describe('lifecycle derivation (upstream CommonStatus#getLifecycleState)', () => {
  for (const [title, status, expected, kind] of rows) {
    it(`${title} → ${expected}`, () => {
      expect(deriveLifecycleState(status, kind ?? 'FlinkDeployment')).to.equal(expected);
    });
  }
});
