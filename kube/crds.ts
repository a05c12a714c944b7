// The operator keeps its CRDs as the chart it came with has them: Helm installs a chart's crds/ once and never
// upgrades them, so at start the operator server-side applies the chart's copies (mounted from a ConfigMap). Only
// its own group's CRDs, never a delete: a CRD removed from the chart stays, and so do the resources of it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { objectPath, type KubeClient, type KubeObject } from './client.js';

const OWN_GROUP = '.flink.apache.org';

/** The CRDs in `dir` (`*.yaml`, a mounted ConfigMap's `..data` links skipped), each checked to be one of ours. */
export function readCrds(dir: string): KubeObject[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('..'))
    .sort();
  const crds = files
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject | null))
    .filter((d): d is KubeObject => d !== null);
  for (const crd of crds) {
    if (crd.kind !== 'CustomResourceDefinition' || !crd.metadata?.name?.endsWith(OWN_GROUP)) {
      throw new Error(
        `${dir}: ${crd.kind} ${crd.metadata?.name ?? '(no name)'} is not a CustomResourceDefinition of flink.apache.org`,
      );
    }
  }
  if (crds.length === 0) throw new Error(`${dir} holds no CRDs`);
  return crds;
}

/** Server-side applies each CRD; the names applied. */
export async function applyCrds(client: KubeClient, crds: KubeObject[], fieldManager: string): Promise<string[]> {
  for (const crd of crds)
    await client.apply(
      objectPath('apiextensions.k8s.io/v1', 'customresourcedefinitions', '', crd.metadata!.name),
      crd,
      fieldManager,
    );
  return crds.map((c) => c.metadata!.name!);
}
