// Serving certificate from files, swapped in without a restart when the files change (cert rotation:
// Kubernetes replaces mounted Secrets through a symlink swap, cert-manager rewrites them in place).
import { watch, type FSWatcher, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * TLS 1.3's suites (all AEAD), and on TLS 1.2 only ECDHE key exchange (forward secrecy) with AEAD ciphers: no RSA
 * key exchange, no CBC, no SHA-1 — what the Mozilla "intermediate" profile and the API server's own defaults allow.
 */
export const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

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
    // An empty or half-written file can still make a context; a certificate that parses and matches its key cannot lie.
    if (!new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key)))
      throw new Error('the key does not belong to the certificate');
    createSecureContext(secureContextOptions(pair));
  } catch (err) {
    throw new Error(`${certFile} and ${keyFile} are not a usable certificate and key: ${(err as Error).message}`);
  }
  return pair;
}

export function secureContextOptions(pair: ServingCertificate): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: MIN_TLS_VERSION, ciphers: CIPHERS, honorCipherOrder: true };
}

/** Where the server's certificate comes from: files (cert-manager, local use) or the webhook's own Secret. */
export interface CertificateSource {
  current(): ServingCertificate;
  /** Called with each new pair after the first. */
  onChange(listener: (pair: ServingCertificate) => void): void;
  stop(): void;
}

/** The pair in two files, reloaded when they change and still form a valid pair. */
export function certificateFiles(
  certFile: string,
  keyFile: string,
  onError: (err: Error) => void,
  pollMs?: number,
): CertificateSource {
  let pair = loadCertificate(certFile, keyFile);
  const listeners: ((pair: ServingCertificate) => void)[] = [];
  const stop = watchCertificate(
    certFile,
    keyFile,
    (next) => {
      pair = next;
      for (const listener of listeners) listener(next);
    },
    onError,
    pollMs,
  );
  return { current: () => pair, onChange: (listener) => listeners.push(listener), stop };
}

/** Calls `onChange` with the new pair whenever the files change and still form a valid pair. */
function watchCertificate(
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
