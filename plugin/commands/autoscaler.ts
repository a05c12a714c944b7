// `kubectl flink autoscaler NAME`: the autoscaler's last decision for the job, with its numbers (api/cli/autoscaler.ts).
import { autoscalerLines } from '../../api/cli/autoscaler.js';
import { asObject, type Json } from '../../api/validation/access.js';
import { print, printObjects, type OutputFormat } from '../output.js';
import type { Session } from '../session.js';

export async function autoscaler(session: Session, name: string, output: OutputFormat): Promise<number> {
  const resource = await session.resolve(name);
  if (output === 'json' || output === 'yaml')
    printObjects((asObject(asObject(resource.status)?.autoscaler) ?? {}) as Json, output);
  else if (output === 'name') printObjects(resource, output);
  else for (const line of autoscalerLines(resource, Date.now())) print(line);
  return 0;
}
