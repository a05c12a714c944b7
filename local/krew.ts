// A real krew (kubectl's plugin manager) for the plugin's install test: `go install` of its published module,
// cached by version — `krew install --manifest --archive` is how a krew manifest is tried before it is published.
import { existsSync, renameSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './control-plane/binaries.js';
import { requireTool, runTool } from './tools.js';

const KREW_MODULE = 'sigs.k8s.io/krew';
const KREW_VERSION = 'v0.4.3';

export async function ensureKrew(): Promise<string> {
  const dir = join(cacheRoot(), `krew-${KREW_VERSION}`);
  const krew = join(dir, 'krew');
  if (existsSync(krew)) return krew;
  requireTool('go', ['version'], `krew ${KREW_VERSION} is built from its Go module`);
  const staging = `${dir}.part`;
  mkdirSync(staging, { recursive: true });
  await runTool('go', ['install', `${KREW_MODULE}/cmd/krew@${KREW_VERSION}`], staging, {
    GOBIN: staging,
    GOFLAGS: '-buildvcs=false',
  });
  renameSync(staging, dir);
  return krew;
}
