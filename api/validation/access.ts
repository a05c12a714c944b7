// Safe reads of objects that arrived as untrusted JSON: a wrong type reads as absent.
export type Json = Record<string, unknown>;

export const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;

export const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export const asInteger = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) ? value : undefined;

export const has = (obj: Json | undefined, key: string): boolean =>
  obj !== undefined && obj[key] !== undefined && obj[key] !== null;
