// Turns Kubernetes' own OpenAPI v3 definitions into structural, self-contained CRD subtrees.
// Only build-time tooling: it reads the k8s.io/kubernetes module the local control plane pins.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONSchemaProps } from '../api/schema/json-schema.js';

type OpenApiSchema = Record<string, unknown>;

/** The k8s.io/kubernetes release pinned by local/kube-binaries/go.mod (one source of truth). */
export function pinnedKubernetesVersion(repoRoot: string): string {
  const goMod = readFileSync(join(repoRoot, 'local/kube-binaries/go.mod'), 'utf8');
  const match = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)(?:\s*\/\/.*)?$/m.exec(goMod);
  if (!match?.[1]) throw new Error('local/kube-binaries/go.mod does not pin k8s.io/kubernetes');
  return match[1];
}

export function kubernetesOpenApiDir(version: string): string {
  let out: string;
  try {
    out = execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`cannot fetch k8s.io/kubernetes@${version} with the Go toolchain: ${(err as Error).message}`);
  }
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download gave no directory for k8s.io/kubernetes@${version}`);
  return join(dir, 'api/openapi-spec/v3');
}

/**
 * The definitions reachable from `roots` in one OpenAPI v3 document, made structural, with `$ref`s between them
 * kept (`#/$defs/<name>`) so that each is validated by one compiled function; the CRD writer inlines them.
 */
export function collectDefinitions(openApiFile: string, roots: string[]): Record<string, JSONSchemaProps> {
  const doc = JSON.parse(readFileSync(openApiFile, 'utf8')) as {
    components: { schemas: Record<string, OpenApiSchema> };
  };
  const schemas = doc.components.schemas;
  const out: Record<string, JSONSchemaProps> = {};
  const pending = [...roots];
  const refTo = (name: string): JSONSchemaProps => {
    if (!(name in out) && !pending.includes(name)) pending.push(name);
    return { $ref: `#/$defs/${name}` };
  };
  const convert = (node: OpenApiSchema, name?: string): JSONSchemaProps => {
    const ref = refOf(node);
    if (ref) return special(ref) ?? refTo(ref);
    const out: JSONSchemaProps = special(name, node) ?? {};
    if (Object.keys(out).length > 0) return out;
    if (typeof node.type === 'string') out.type = node.type as JSONSchemaProps['type'];
    const props = node.properties as Record<string, OpenApiSchema> | undefined;
    if (props) {
      out.type = 'object';
      out.properties = Object.fromEntries(
        Object.keys(props)
          .sort()
          .map((key) => [key, convert(props[key] as OpenApiSchema)]),
      );
    }
    if (node.items) out.items = convert(node.items as OpenApiSchema);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      out.additionalProperties = convert(node.additionalProperties as OpenApiSchema);
    }
    // Dropped on purpose: descriptions (size: kubectl apply's annotation limit), defaults, formats,
    // required lists and list-type markers — upstream's CRD has none of them, and a drop-in must
    // accept everything upstream accepts.
    return out;
  };
  while (pending.length > 0) {
    const name = pending.shift()!;
    const def = schemas[name];
    if (!def) throw new Error(`${openApiFile}: no definition ${name}`);
    out[name] = convert(def, name);
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]!]),
  );
}

/** Kubernetes types that a CRD spells its own way. */
function special(name: string | undefined, node?: OpenApiSchema): JSONSchemaProps | undefined {
  // Quantities and IntOrStrings are int-or-string in a CRD, as upstream's generator writes them.
  if (
    name === 'io.k8s.apimachinery.pkg.api.resource.Quantity' ||
    name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' ||
    node?.format === 'int-or-string'
  ) {
    return { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
  }
  // managedFields' field sets are free-form; keep them instead of pruning them away.
  if (name === 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1')
    return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return undefined;
}

function refOf(node: OpenApiSchema): string | undefined {
  const direct = node.$ref;
  const viaAllOf =
    Array.isArray(node.allOf) && node.allOf.length === 1 ? (node.allOf[0] as OpenApiSchema).$ref : undefined;
  const ref = (direct ?? viaAllOf) as string | undefined;
  return ref?.replace('#/components/schemas/', '');
}
