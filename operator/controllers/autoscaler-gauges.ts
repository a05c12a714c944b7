// The autoscaler's per-vertex gauges on /metrics, read from each FlinkDeployment's `status.autoscaler` when scraped:
// upstream's `AutoScaler.jobVertexID.<id>.<metric>` (ScalingMetric names as the `metric` label). They follow the
// topology — a vertex that goes, goes from /metrics too (upstream registers its gauges once).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AutoscalerVertexStatus, FlinkDeploymentStatus } from '../../api/types.generated.js';
import type { ControllerGauge } from '../runtime/controller.js';

const METRICS: [string, keyof AutoscalerVertexStatus][] = [
  ['PARALLELISM', 'parallelism'],
  ['RECOMMENDED_PARALLELISM', 'recommended'],
  ['MAX_PARALLELISM', 'maxParallelism'],
  ['LOAD', 'busyRatio'],
  ['TRUE_PROCESSING_RATE', 'trueProcessingRate'],
  ['TARGET_DATA_RATE', 'targetRate'],
  ['CATCH_UP_DATA_RATE', 'catchUpRate'],
  ['LAG', 'lag'],
  ['SCALE_UP_RATE_THRESHOLD', 'scaleUpThreshold'],
  ['SCALE_DOWN_RATE_THRESHOLD', 'scaleDownThreshold'],
  ['EXPECTED_PROCESSING_RATE', 'expectedProcessingRate'],
  ['NUM_SOURCE_PARTITIONS', 'partitions'],
];

export function autoscalerGauges(watch: string): ControllerGauge[] {
  return [
    {
      name: 'flink_operator_autoscaler_vertex',
      help: "The autoscaler's last evaluation of each job vertex (metric: upstream's ScalingMetric name)",
      labelNames: ['namespace', 'resource', 'vertex', 'vertex_name', 'metric'],
      read: (objects) =>
        objects(watch).flatMap((o: KubernetesObject & { status?: FlinkDeploymentStatus }) =>
          (o.status?.autoscaler?.vertices ?? []).flatMap((v) =>
            METRICS.filter(([, field]) => typeof v[field] === 'number').map(([metric, field]) => ({
              labels: {
                namespace: o.metadata?.namespace ?? '',
                resource: o.metadata?.name ?? '',
                vertex: v.id ?? '',
                vertex_name: v.name ?? '',
                metric,
              },
              value: v[field] as number,
            })),
          ),
        ),
    },
  ];
}
