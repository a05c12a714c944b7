// The lifecycle state shown to users, derived from the rest of the status exactly as upstream's
// CommonStatus#getLifecycleState does (notes §2.2). Only DELETING and DELETED are ever stored as such.
import type { FlinkDeploymentStatus, FlinkSessionJobStatus } from './types.generated.js';
import { readSpecEnvelope } from './spec-envelope.js';
import { asObject } from './validation/access.js';

export type LifecycleState = NonNullable<FlinkDeploymentStatus['lifecycleState']>;

/** Substrings of `status.error` that mean the job cannot come back without the user (upstream CommonStatus constants). */
export const TERMINAL_ERROR_MARKERS = [
  'Manual restore required.',
  'It is possible that the job has finished or terminally failed, or the configmaps have been deleted.',
  'HA metadata is not available',
] as const;

type Status = FlinkDeploymentStatus | FlinkSessionJobStatus;

export function deriveLifecycleState(
  status: Status | undefined,
  kind: 'FlinkDeployment' | 'FlinkSessionJob',
): LifecycleState {
  const stored = status?.lifecycleState;
  if (stored === 'DELETING' || stored === 'DELETED') return stored;

  const reconciliation = status?.reconciliationStatus;
  const lastReconciled = reconciliation?.lastReconciledSpec;
  if (lastReconciled === undefined || lastReconciled === null) return isEmpty(status?.error) ? 'CREATED' : 'FAILED';

  const state = reconciliation?.state ?? 'UPGRADING';
  if (state === 'UPGRADING') return 'UPGRADING';
  if (state === 'ROLLING_BACK') return 'ROLLING_BACK';

  if (asObject(readSpecEnvelope(lastReconciled)?.spec.job)?.state === 'suspended') return 'SUSPENDED';
  if (status?.jobStatus?.state === 'FAILED') return 'FAILED';

  if (kind === 'FlinkDeployment') {
    const jm = (status as FlinkDeploymentStatus).jobManagerDeploymentStatus ?? 'MISSING';
    const error = status?.error;
    if (
      (jm === 'MISSING' || jm === 'ERROR') &&
      error &&
      TERMINAL_ERROR_MARKERS.some((marker) => error.includes(marker))
    ) {
      return 'FAILED';
    }
  }

  if (state === 'ROLLED_BACK') return 'ROLLED_BACK';
  if (reconciliation?.lastStableSpec !== undefined && lastReconciled === reconciliation.lastStableSpec) return 'STABLE';
  return 'DEPLOYED';
}

function isEmpty(text: string | undefined): boolean {
  return text === undefined || text === null || text === '';
}
