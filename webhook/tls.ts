// Serving certificate from files, swapped in without a restart when the files change (cert rotation:
// Kubernetes replaces mounted Secrets through a symlink swap, cert-manager rewrites them in place).
import { watch, type FSWatcher, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export const MIN_TLS_VERSION = 'TLSv1.2';

export interface ServingCertificate {
  cert: string;
  key: string;
}

/** Reads both files and proves they form a usable pair; throws a one-line reason otherwise. */
export function loadCertificate(certFile: string, keyFile: string): ServingCertificate {
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const pair = { cert: read(certFile, '--tls-cert-file'), key: read(keyFile, '--tls-private-key-file') };
  try {
    createSecureContext(secureContextOptions(pair));
  } catch (err) {
    throw new Error(`${certFile} and ${keyFile} are not a usable certificate and key: ${(err as Error).message}`);
  }
  return pair;
}

export function secureContextOptions(pair: ServingCertificate): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: MIN_TLS_VERSION };
}

/** Calls `onChange` with the new pair whenever the files change and still form a valid pair. */
export function watchCertificate(
  certFile: string,
  keyFile: string,
  onChange: (pair: ServingCertificate) => void,
  onError: (err: Error) => void,
  pollMs = 10_000,
): () => void {
  let last = fingerprint(certFile, keyFile);
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    timer = undefined;
    const now = fingerprint(certFile, keyFile);
    if (now === last) return;
    try {
      const pair = loadCertificate(certFile, keyFile);
      last = now;
      onChange(pair);
    } catch (err) {
      onError(err as Error); // a half-written pair: keep serving the old one, retry on the next change or poll
    }
  };
  const soon = () => {
    if (!timer) timer = setTimeout(check, 100);
  };
  const watchers: FSWatcher[] = [...new Set([dirname(certFile), dirname(keyFile)])].flatMap((dir) => {
    try {
      return [watch(dir, soon)];
    } catch {
      return []; // no inotify here: the poll still notices
    }
  });
  const poll = setInterval(check, pollMs);
  poll.unref();
  return () => {
    watchers.forEach((w) => w.close());
    clearInterval(poll);
    if (timer) clearTimeout(timer);
  };
}

function fingerprint(certFile: string, keyFile: string): string {
  try {
    return readFileSync(certFile, 'utf8') + '\u0000' + readFileSync(keyFile, 'utf8');
  } catch {
    return '';
  }
}
