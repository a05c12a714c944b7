// The upstream example resources, one entry per FlinkDeployment / FlinkSessionJob / FlinkStateSnapshot document.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { upstreamExamplesDir } from './paths.js';

export interface Example {
  file: string;
  kind: 'FlinkDeployment' | 'FlinkSessionJob' | 'FlinkStateSnapshot';
  name: string;
  object: Record<string, unknown> & {
    metadata: { name: string; namespace?: string; labels?: Record<string, string> };
    spec?: Record<string, unknown>;
  };
}

export function upstreamExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of readdirSync(upstreamExamplesDir).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(upstreamExamplesDir, file), 'utf8'))) {
      const object = doc.toJSON() as Example['object'] | null;
      if (object?.apiVersion !== 'flink.apache.org/v1beta1') continue;
      if (
        object.kind !== 'FlinkDeployment' &&
        object.kind !== 'FlinkSessionJob' &&
        object.kind !== 'FlinkStateSnapshot'
      )
        continue;
      examples.push({ file, kind: object.kind, name: object.metadata.name, object });
    }
  }
  if (examples.length === 0) throw new Error(`no FlinkDeployment or FlinkSessionJob found in ${upstreamExamplesDir}`);
  return examples;
}
