// Hand-written names for the subtrees the generated types leave open: Kubernetes' own objects
// (validated by the schema, never inspected field by field here) and Flink's free-form configuration.
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type FlinkConfiguration = { [key: string]: JsonValue };
export type PodTemplate = { [key: string]: JsonValue };
export type IngressTLS = { hosts?: string[]; secretName?: string };
export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
  claims?: { name?: string; request?: string }[];
}
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [key: string]: unknown;
}
