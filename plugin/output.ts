// Everything the plugin prints, in one place: kubectl's output formats (table, wide, json, yaml, name), its
// `kind.group/name verb` lines, and errors as one line on stderr with kubectl's exit codes.
import { stringify } from 'yaml';
import { formatTable, type Table } from '../api/cli/views.js';
import { GROUP } from '../api/schema/crd.js';
import type { Json } from '../api/validation/access.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A failure the user can act on: its message is the whole story (no stack), its code kubectl's (1 error, 2 usage). */
export class PluginError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export const print = (line = ''): void => void process.stdout.write(`${line}\n`);

export function printTable(table: Table, emptyNote: string): void {
  if (table.rows.length === 0) {
    process.stderr.write(`${emptyNote}\n`);
    return;
  }
  for (const line of formatTable(table)) print(line);
}

/** `kind.group/name`, as `kubectl get -o name` prints it. */
export const nameOf = (resource: Json): string =>
  `${String(resource.kind ?? '').toLowerCase()}.${GROUP}/${String((resource.metadata as { name?: string } | undefined)?.name ?? '')}`;

/** One object, or a listing (always kubectl's `List`, as `kubectl get` prints a collection), as json, yaml or name. */
export function printObjects(objects: Json | Json[], format: 'json' | 'yaml' | 'name'): void {
  const many = Array.isArray(objects) ? objects : [objects];
  if (format === 'name') {
    for (const o of many) print(nameOf(o));
    return;
  }
  const value = Array.isArray(objects)
    ? { apiVersion: 'v1', kind: 'List', items: objects, metadata: { resourceVersion: '' } }
    : objects;
  process.stdout.write(format === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value, { lineWidth: 0 }));
}

/** `flinkdeployment.flink.apache.org/orders suspended` */
export const printChange = (resource: Json, change: string): void => print(`${nameOf(resource)} ${change}`);
