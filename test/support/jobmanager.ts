// A JobManager Deployment and its flink-config ConfigMap, written by hand the way the reconciler will create them.

export const JOB_ID = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

export function jobManager(ns: string, app: string, extra: string[] = []): string {
  const config = [
    ...extra,
    'taskmanager.numberOfTaskSlots: 1', // fewer than the parallelism: the runner must offer enough
    'parallelism.default: 2',
    'pipeline.jars: local:///opt/flink/examples/streaming/StateMachineExample.jar',
    `$internal.pipeline.job-id: ${JOB_ID}`,
    'execution.checkpointing.dir: file:///flink-data/checkpoints',
    'kubernetes.cluster-id: ' + app,
    'kubernetes.namespace: ' + ns,
  ].join('\n');
  const labels = { app, component: 'jobmanager', type: 'flink-native-kubernetes' };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `flink-config-${app}`, namespace: ns, labels: { app } },
        data: { 'config.yaml': config },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: ns, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: 'flink',
              containers: [{ name: 'flink-main-container', image: 'flink:2.2', args: ['jobmanager'] }],
            },
          },
        },
      },
    ],
  });
}
