// `suspend`, `resume` and `restart`: one merge patch on `.spec` each (never on status), decided in api/cli.
import { jobStatePatch, restartPatch, type SpecPatch } from '../../api/cli/operations.js';
import type { Json } from '../../api/validation/access.js';
import { PluginError, printChange } from '../output.js';
import type { Session } from '../session.js';

export type SpecVerb = 'suspend' | 'resume' | 'restart';

const PATCHES: Record<SpecVerb, (resource: Json) => SpecPatch> = {
  suspend: (r) => jobStatePatch(r, 'suspended'),
  resume: (r) => jobStatePatch(r, 'running'),
  restart: (r) => restartPatch(r, Date.now()),
};

export async function changeSpec(session: Session, name: string, verb: SpecVerb): Promise<number> {
  const resource = await session.resolve(name);
  const decision = PATCHES[verb](resource);
  if ('refused' in decision) throw new PluginError(decision.refused);
  const kind = resource.kind as 'FlinkDeployment' | 'FlinkSessionJob';
  const patched = await session.call(`patch ${kind.toLowerCase()}s`, (c) =>
    c.patch<Json>(session.path(kind, String((resource.metadata as { name: string }).name)), 'merge', decision.patch),
  );
  printChange({ ...patched, kind }, decision.change);
  return 0;
}
