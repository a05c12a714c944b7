// What a CRD promises about the objects it accepts, as lines that compare and diff well: every property path of its
// schema with its type, and its subresources. The CRD test compares ours with upstream's, kept as such a fixture:
//   node dist/tools/crd-facts.js <upstream CRD YAML> > test/fixtures/upstream-crds/<plural>.txt
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface CrdFacts {
  /** `.spec.job.parallelism` → `integer`; maps as `{}`, arrays as `[]`. */
  paths: Map<string, string>;
  subresources: unknown;
}

export function typedPaths(schema: SchemaNode, path = '', out = new Map<string, string>()): Map<string, string> {
  const type = schema['x-kubernetes-int-or-string']
    ? 'int-or-string'
    : schema['x-kubernetes-preserve-unknown-fields'] && !schema.type
      ? 'any'
      : (schema.type ?? 'untyped');
  out.set(path || '.', type);
  for (const [key, child] of Object.entries(schema.properties ?? {})) typedPaths(child, `${path}.${key}`, out);
  if (schema.items) typedPaths(schema.items, `${path}[]`, out);
  if (typeof schema.additionalProperties === 'object') typedPaths(schema.additionalProperties, `${path}{}`, out);
  return out;
}

/** The facts of a CRD's first version. */
export function crdFacts(crdYaml: string): CrdFacts {
  const version = (
    parse(crdYaml) as { spec: { versions: { schema: { openAPIV3Schema: SchemaNode }; subresources?: unknown }[] } }
  ).spec.versions[0]!;
  return { paths: typedPaths(version.schema.openAPIV3Schema), subresources: version.subresources ?? {} };
}

export function writeFacts(facts: CrdFacts, header: string): string {
  return `${header}\nsubresources ${JSON.stringify(facts.subresources)}\n${[...facts.paths].map(([p, t]) => `${p} ${t}`).join('\n')}\n`;
}

export function readFacts(text: string): CrdFacts {
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const [first, ...rest] = lines;
  if (!first?.startsWith('subresources ')) throw new Error('a CRD facts file starts with its subresources line');
  return {
    subresources: JSON.parse(first.slice('subresources '.length)),
    paths: new Map(rest.map((line) => line.split(' ') as [string, string])),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/tools/crd-facts.js <CRD YAML>');
    process.exit(2);
  }
  process.stdout.write(
    writeFacts(
      crdFacts(readFileSync(file, 'utf8')),
      `# The property paths and types of ${file.split('/').at(-1)}, then its subresources.`,
    ),
  );
}
