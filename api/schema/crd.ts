// CustomResourceDefinitions of our three kinds, built from the one schema.
import {
  flinkDeploymentSchema,
  flinkSessionJobSchema,
  flinkStateSnapshotSchema,
  kubernetesDefinitions,
} from './flink-resources.js';
import { structural, type JSONSchemaProps } from './json-schema.js';

export const GROUP = 'flink.apache.org';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface KindInfo {
  kind: 'FlinkDeployment' | 'FlinkSessionJob' | 'FlinkStateSnapshot';
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

export const FLINK_STATE_SNAPSHOT: KindInfo = {
  kind: 'FlinkStateSnapshot',
  plural: 'flinkstatesnapshots',
  singular: 'flinkstatesnapshot',
  shortNames: ['flinksnp'],
  schema: flinkStateSnapshotSchema,
};

export const KINDS = [FLINK_DEPLOYMENT, FLINK_SESSION_JOB, FLINK_STATE_SNAPSHOT] as const;

const column = (name: string, jsonPath: string, type = 'string') => ({ name, type, jsonPath, priority: 0 });
const age = column('Age', '.metadata.creationTimestamp', 'date');

const printerColumns = (kind: KindInfo) => {
  if (kind === FLINK_STATE_SNAPSHOT) {
    return [
      column('Path', '.status.path'),
      column('Result Timestamp', '.status.resultTimestamp'),
      column('Snapshot State', '.status.state'),
      age,
    ];
  }
  return [
    column('Job Status', '.status.jobStatus.state'),
    column('Lifecycle State', '.status.lifecycleState'),
    kind === FLINK_DEPLOYMENT ? column('Mode', '.spec.mode') : column('Deployment', '.spec.deploymentName'),
    age,
  ];
};

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
      names: {
        kind: kind.kind,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: kind.shortNames,
        categories: ['flink'],
      },
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
