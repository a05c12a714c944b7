// `kubectl flink rollback NAME`: like `kubectl rollout undo` — the last stable spec written back as `.spec`, after
// showing what changes; `--yes` skips the question (required when stdin is not a terminal).
import { createInterface } from 'node:readline/promises';
import { rollbackPlan } from '../../api/cli/operations.js';
import { asObject, type Json } from '../../api/validation/access.js';
import { print, PluginError, printChange } from '../output.js';
import type { Session } from '../session.js';

export async function rollback(session: Session, name: string, yes: boolean): Promise<number> {
  const resource = await session.resolve(name);
  const plan = rollbackPlan(resource);
  if ('refused' in plan) throw new PluginError(plan.refused);
  print(
    `Rolling ${String(resource.kind)} ${JSON.stringify((resource.metadata as { name: string }).name)} back to its last stable spec:`,
  );
  for (const path of plan.changedPaths)
    print(`  ${path}: ${shown(valueAt(resource, path))} → ${shown(valueAt({ spec: plan.spec }, path))}`);
  if (!yes) {
    if (!process.stdin.isTTY) throw new PluginError('not a terminal to ask in: add --yes to roll back', 2);
    const question = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await question.question('Roll back? [y/N] ');
    question.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      print('Nothing changed.');
      return 1;
    }
  }
  const kind = resource.kind as 'FlinkDeployment' | 'FlinkSessionJob';
  const metadata = resource.metadata as { name: string; resourceVersion: string };
  // `test` on the resourceVersion: a spec someone changed meanwhile is not overwritten unseen.
  const patch = [
    { op: 'test', path: '/metadata/resourceVersion', value: metadata.resourceVersion },
    { op: 'replace', path: '/spec', value: plan.spec },
  ];
  const patched = await session.call(`patch ${kind.toLowerCase()}s`, (c) =>
    c.patch<Json>(session.path(kind, metadata.name), 'json', patch),
  );
  printChange({ ...patched, kind }, 'rolled back');
  return 0;
}

/** The value at a path `diffPaths` wrote (`spec.job.args`, `spec.flinkConfiguration["a.b"]`). */
function valueAt(root: Json, path: string): unknown {
  const keys = [...path.matchAll(/\.([A-Za-z_][\w-]*)|\["((?:[^"\\]|\\.)*)"\]|^([A-Za-z_][\w-]*)/g)].map(
    (m) => m[1] ?? (m[2] !== undefined ? (JSON.parse(`"${m[2]}"`) as string) : m[3]!),
  );
  return keys.reduce<unknown>((o, k) => asObject(o)?.[k], root);
}

const shown = (value: unknown): string => (value === undefined ? '<unset>' : JSON.stringify(value).slice(0, 120));
