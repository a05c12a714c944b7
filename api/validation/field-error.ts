// A validation problem: the field the user has to change and why, in our words.
export interface FieldError {
  field: string;
  message: string;
}

export const fieldError = (field: string, message: string): FieldError => ({ field, message });

export const formatFieldError = (e: FieldError): string => `${e.field}: ${e.message}`;

/** `spec.flinkConfiguration["kubernetes.cluster-id"]` — map keys in brackets, as kubectl prints them. */
export const keyPath = (mapPath: string, key: string): string => `${mapPath}[${JSON.stringify(key)}]`;

export const configPath = (key: string, root = 'spec.flinkConfiguration'): string => keyPath(root, key);

/** Renders a user's value for a message: strings quoted, everything else as JSON. */
export const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);
