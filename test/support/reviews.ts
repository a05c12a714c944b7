// Builds AdmissionReview requests as the API server sends them.
import { randomUUID } from 'node:crypto';

export interface ReviewOptions {
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  oldObject?: unknown;
  uid?: string;
}

/** A damaged `kind` may be an object String() cannot convert (a null prototype, a `toString` that is not a function). */
function kindText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return JSON.stringify(value) ?? 'undefined';
  }
}

export function admissionReview(
  object: { kind?: unknown; metadata?: { name?: string; namespace?: string } } | null,
  options: ReviewOptions = {},
) {
  const kind = kindText(
    object?.kind ?? (options.oldObject as { kind?: string } | undefined)?.kind ?? 'FlinkDeployment',
  );
  const meta =
    object?.metadata ??
    (options.oldObject as { metadata?: { name?: string; namespace?: string } } | undefined)?.metadata;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? randomUUID(),
      kind: { group: 'flink.apache.org', version: 'v1beta1', kind },
      resource: { group: 'flink.apache.org', version: 'v1beta1', resource: `${kind.toLowerCase()}s` },
      requestKind: { group: 'flink.apache.org', version: 'v1beta1', kind },
      name: meta?.name,
      namespace: meta?.namespace ?? 'default',
      operation: options.operation ?? 'CREATE',
      userInfo: { username: 'test-user', groups: ['system:authenticated'] },
      object,
      oldObject: options.oldObject ?? null,
      dryRun: false,
      options: null,
    },
  };
}
