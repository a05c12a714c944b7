// A validation problem: the field the user has to change and why, in our words.
export interface FieldError {
  field: string;
  message: string;
}

export const fieldError = (field: string, message: string): FieldError => ({ field, message });

export const formatFieldError = (e: FieldError): string => `${e.field}: ${e.message}`;

/** `spec.flinkConfiguration["kubernetes.cluster-id"]` — map keys in brackets, as kubectl prints them (long keys shortened). */
export const keyPath = (mapPath: string, key: string): string => `${mapPath}[${shown(key)}]`;

export const configPath = (key: string, root = 'spec.flinkConfiguration'): string => keyPath(root, key);

/** How much of a user's value a message repeats: enough to recognise it, never enough to amplify a request. */
export const MAX_SHOWN_CHARS = 80;

/**
 * Renders a user's value for a message: strings quoted, numbers and booleans as JSON, shortened with an ellipsis
 * past MAX_SHOWN_CHARS; an object or array by its size, never its content (an error must not echo a whole subtree).
 */
export function shown(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} ${value.length === 1 ? 'item' : 'items'}`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).length;
    return `an object with ${keys} ${keys === 1 ? 'key' : 'keys'}`;
  }
  const text =
    typeof value === 'string' && value.length > MAX_SHOWN_CHARS
      ? JSON.stringify(value.slice(0, MAX_SHOWN_CHARS))
      : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_SHOWN_CHARS + 2 ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}
