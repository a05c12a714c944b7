// `kubectl flink autoscaler NAME` as a user reads it: the phase, the decision, a row of numbers per vertex and a
// sentence saying why each vertex is where it is.
import { expect } from 'chai';
import { autoscalerLines } from '../../api/cli/autoscaler.js';

const NOW = Date.parse('2026-12-08T10:00:00Z');

describe('kubectl flink autoscaler (view)', () => {
  it('shows each vertex with its rates, band and the reason, from status.autoscaler', () => {
    const lines = autoscalerLines(
      {
        status: {
          autoscaler: {
            phase: 'Recommending',
            message: 'Dry run: would rescale load 1 → 3',
            lastEvaluationTime: '2026-12-08T09:59:50.000Z',
            vertices: [
              {
                id: 'a',
                name: 'records',
                parallelism: 1,
                recommended: 1,
                busyRatio: 0.004,
                targetRate: 10,
                lag: 0,
                scaleUpThreshold: 13,
                scaleDownThreshold: 50,
                blockedBy: 'WithinBand',
              },
              {
                id: 'b',
                name: 'load',
                parallelism: 1,
                recommended: 3,
                busyRatio: 1,
                trueProcessingRate: 7.5,
                targetRate: 10,
                scaleUpThreshold: 13,
                scaleDownThreshold: 50,
                expectedProcessingRate: 22.5,
                blockedBy: 'DryRun',
              },
            ],
          },
        },
      },
      NOW,
    );
    expect(lines.slice(0, 3)).to.deep.equal([
      'Autoscaler:   Recommending',
      'Decision:     Dry run: would rescale load 1 → 3',
      'Evaluated:    2026-12-08T09:59:50.000Z (10s ago)',
    ]);
    expect(lines[4]).to.match(
      /^VERTEX +PARALLELISM +RECOMMENDED +BUSY +RATE@100% +TARGET RATE +LAG +UP \/ DOWN AT +BLOCKED BY$/,
    );
    expect(lines[6]).to.match(/^load +1 +3 +1\.00 +7\.5 +10 +13 \/ 50 +DryRun$/);
    expect(lines.slice(-2)).to.deep.equal([
      'records: processing rate ∞ is within [13, 50]: nothing to do',
      'load: would rescale 1 → 3, expected processing rate 22.5 (dry run: job.autoscaler.scaling.enabled is false)',
    ]);
  });

  it('says so when the autoscaler has not looked at the job', () => {
    expect(autoscalerLines({ status: {} }, NOW)[0]).to.match(/has not looked at this job/);
  });
});
