// Flink's Kubernetes HA metadata, as the operator reads it: the ConfigMaps Flink's HA services keep for a cluster
// (`<cluster>-cluster-config-map` for leaders and job graphs, `<cluster>-<job id>-config-map` for a job's
// checkpoints, `-leader` ones before Flink 1.15). Flink labels them only with its common labels (`app=<cluster>`,
// `type=flink-native-kubernetes`), which the cluster's own `flink-config-<cluster>` has too: the names tell them apart.

/** What a cluster's HA ConfigMaps are listed by; `isHaConfigMap` then picks them out. */
export const haConfigMapSelector = (cluster: string): string => `app=${cluster}`;

export function isHaConfigMap(name: string, cluster: string): boolean {
  return name.startsWith(`${cluster}-`) && (name.endsWith('-config-map') || name.endsWith('-leader'));
}

/** A job's own HA ConfigMap (or an old-style `-jobmanager-leader` one): a job to recover (upstream's isValidHaConfigMap). */
export function holdsJob(name: string): boolean {
  return name.endsWith('-config-map') ? !name.endsWith('-cluster-config-map') : name.endsWith('-jobmanager-leader');
}

/** Job graph entries of the HA ConfigMaps (`executionPlan-` since Flink 2.0, `jobGraph-` before). */
export const isJobGraphKey = (key: string): boolean => key.startsWith('jobGraph-') || key.startsWith('executionPlan-');
