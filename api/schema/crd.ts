// CustomResourceDefinitions of our two kinds, built from the one schema.
import { flinkDeploymentSchema, flinkSessionJobSchema, kubernetesDefinitions } from './flink-resources.js';
import { structural, type JSONSchemaProps } from './json-schema.js';

export const GROUP = 'flink.apache.org';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface KindInfo {
  kind: 'FlinkDeployment' | 'FlinkSessionJob';
  plural: string;
  singular: string;
  shortNames: string[];
  schema: JSONSchemaProps;
}

export const FLINK_DEPLOYMENT: KindInfo = {
  kind: 'FlinkDeployment',
  plural: 'flinkdeployments',
  singular: 'flinkdeployment',
  shortNames: ['flinkdep'],
  schema: flinkDeploymentSchema,
};

export const FLINK_SESSION_JOB: KindInfo = {
  kind: 'FlinkSessionJob',
  plural: 'flinksessionjobs',
  singular: 'flinksessionjob',
  shortNames: ['sessionjob'],
  schema: flinkSessionJobSchema,
};

export const KINDS = [FLINK_DEPLOYMENT, FLINK_SESSION_JOB] as const;

const printerColumns = (kind: KindInfo) => [
  { name: 'Job Status', type: 'string', jsonPath: '.status.jobStatus.state', priority: 0 },
  { name: 'Lifecycle State', type: 'string', jsonPath: '.status.lifecycleState', priority: 0 },
  kind === FLINK_DEPLOYMENT
    ? { name: 'Mode', type: 'string', jsonPath: '.spec.mode', priority: 0 }
    : { name: 'Deployment', type: 'string', jsonPath: '.spec.deploymentName', priority: 0 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', priority: 0 },
];

export function customResourceDefinition(kind: KindInfo): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${kind.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'flink-operator-ts' },
    },
    spec: {
      group: GROUP,
      names: { kind: kind.kind, plural: kind.plural, singular: kind.singular, shortNames: kind.shortNames, categories: ['flink'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: structural(kind.schema, kubernetesDefinitions) },
          subresources:
            kind === FLINK_DEPLOYMENT
              ? {
                  status: {},
                  scale: {
                    specReplicasPath: '.spec.taskManager.replicas',
                    statusReplicasPath: '.status.taskManager.replicas',
                    labelSelectorPath: '.status.taskManager.labelSelector',
                  },
                }
              : { status: {} },
          additionalPrinterColumns: printerColumns(kind),
        },
      ],
    },
  };
}
