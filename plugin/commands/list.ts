// `kubectl flink list` (`ls`): FlinkDeployments and FlinkSessionJobs of a namespace, or of all of them.
import { listTable } from '../../api/cli/views.js';
import type { Json } from '../../api/validation/access.js';
import { printObjects, printTable, type OutputFormat } from '../output.js';
import { KINDS, type Session } from '../session.js';
import { API_VERSION } from '../../api/schema/crd.js';

export async function list(session: Session, output: OutputFormat): Promise<number> {
  const items = (
    await Promise.all(
      (['FlinkDeployment', 'FlinkSessionJob'] as const).map(async (kind) => {
        const path = session.allNamespaces ? `/apis/${API_VERSION}/${KINDS[kind].plural}` : session.path(kind);
        const found = await session.call(`list ${KINDS[kind].plural}`, (c) => c.list<Json>(path));
        return found.map((o) => ({ apiVersion: API_VERSION, kind, ...o }));
      }),
    )
  ).flat();
  if (output === 'json' || output === 'yaml' || output === 'name') {
    printObjects(items, output);
    return 0;
  }
  const where = session.allNamespaces ? 'any namespace' : `namespace ${JSON.stringify(session.namespace)}`;
  printTable(
    listTable(items, { now: Date.now(), wide: output === 'wide', allNamespaces: session.allNamespaces }),
    `No FlinkDeployments or FlinkSessionJobs found in ${where}.`,
  );
  return 0;
}
