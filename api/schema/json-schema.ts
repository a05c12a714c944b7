// The subset of Kubernetes' apiextensions JSONSchemaProps that structural CRD schemas use.
// `title` and `tsType` only steer type generation; they never reach the CRD.
export interface JSONSchemaProps {
  /** Only to shared Kubernetes definitions (`#/$defs/<name>`); inlined when a CRD is written. */
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  title?: string;
  tsType?: string;
  format?: string;
  enum?: readonly (string | number)[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  anyOf?: JSONSchemaProps[];
  minimum?: number;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

type Extra = Pick<JSONSchemaProps, 'description' | 'title' | 'tsType'>;

export const str = (description?: string): JSONSchemaProps => withDescription({ type: 'string' }, description);
export const int = (description?: string): JSONSchemaProps => withDescription({ type: 'integer' }, description);
export const num = (description?: string): JSONSchemaProps => withDescription({ type: 'number' }, description);
export const bool = (description?: string): JSONSchemaProps => withDescription({ type: 'boolean' }, description);
export const strEnum = (values: readonly string[], description?: string): JSONSchemaProps =>
  withDescription({ type: 'string', enum: values }, description);
export const arrayOf = (items: JSONSchemaProps, description?: string): JSONSchemaProps =>
  withDescription({ type: 'array', items }, description);
export const mapOf = (values: JSONSchemaProps, description?: string): JSONSchemaProps =>
  withDescription({ type: 'object', additionalProperties: values }, description);
export const obj = (properties: Record<string, JSONSchemaProps>, extra: Extra = {}): JSONSchemaProps => ({
  type: 'object',
  ...extra,
  properties,
});
export const intOrString = (): JSONSchemaProps => ({
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  'x-kubernetes-int-or-string': true,
});

function withDescription(schema: JSONSchemaProps, description: string | undefined): JSONSchemaProps {
  return description ? { ...schema, description } : schema;
}

/**
 * Removes the type-generation hints. With `definitions`, every `$ref` is replaced by its definition, as a CRD
 * needs (no `$ref` allowed there); without, `$ref`s stay, for ajv to compile each definition once.
 */
export function structural(schema: JSONSchemaProps, definitions?: Record<string, JSONSchemaProps>): JSONSchemaProps {
  const { title: _title, tsType: _tsType, $ref, ...rest } = schema;
  if ($ref && definitions) {
    const target = definitions[$ref.replace('#/$defs/', '')];
    if (!target) throw new Error(`no definition for ${$ref}`);
    return { ...structural(target, definitions), ...rest };
  }
  const out: JSONSchemaProps = $ref ? { $ref, ...rest } : { ...rest };
  const walk = (s: JSONSchemaProps) => structural(s, definitions);
  if (schema.properties)
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, walk(v)]));
  if (schema.items) out.items = walk(schema.items);
  if (typeof schema.additionalProperties === 'object') out.additionalProperties = walk(schema.additionalProperties);
  if (schema.anyOf) out.anyOf = schema.anyOf.map(walk);
  return out;
}
