// URIs and URLs read the way upstream's Java reads them, not the WHATWG way: java.net.URI for a session job's
// jarURI (strict characters, a host only when the authority is a server, any int port) and java.net.URL for the
// ingress template (lenient, a port is any int). Admission agreeing with upstream depends on these details.
import { isIP } from 'node:net';
import { shown } from './validation/field-error.js';

export type JavaUri =
  { ok: true; scheme: string | undefined; host: string | undefined; port: number } | { ok: false; reason: string };

const MAX_INT = 2 ** 31 - 1;
// RFC 2396 as java.net.URI applies it: unreserved, reserved, escapes and non-ASCII "other" characters.
const LEGAL =
  /^(?:[A-Za-z0-9\-_.!~*'();/?:@&=+$,[\]#]|%[0-9A-Fa-f]{2}|[^\x00-\x7f\s\u00a0\u2000-\u200b\u2028\u2029\u3000])*$/u;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** java.net.URI: the scheme, and the host and port when the authority is server-based (else host undefined, port -1). */
export function parseJavaUri(text: string): JavaUri {
  if (text.length === 0) return { ok: true, scheme: undefined, host: undefined, port: -1 };
  // Per character; a `%` is legal when an escape pair follows (checked next).
  const illegal = [...text].findIndex((c) => c !== '%' && !LEGAL.test(c));
  if (illegal >= 0) return { ok: false, reason: `illegal character at index ${illegal}` };
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) return { ok: false, reason: 'malformed escape pair' };
  const fragmentAt = text.indexOf('#');
  if (fragmentAt >= 0 && text.indexOf('#', fragmentAt + 1) >= 0)
    return { ok: false, reason: 'illegal character in fragment' };
  const scheme = SCHEME.exec(text)?.[1];
  const rest = scheme === undefined ? text : text.slice(scheme.length + 1);
  if (scheme !== undefined && rest.length === 0) return { ok: false, reason: 'expected scheme-specific part' };
  if (scheme === undefined && /^[^/?#]*:/.test(text)) return { ok: false, reason: 'expected scheme name' };
  if (!rest.startsWith('//')) {
    // Opaque (`mailto:x`) or a path alone: no authority, no host.
    return /[[\]]/.test(rest)
      ? { ok: false, reason: 'illegal character in path' }
      : { ok: true, scheme, host: undefined, port: -1 };
  }
  const authority = /^\/\/([^/?#]*)/.exec(rest)![1]!;
  // An empty authority is allowed only before a path, query or fragment (`https:///x.jar`, not `https://`).
  if (authority === '' && rest.length === 2) return { ok: false, reason: 'expected authority' };
  if (/[[\]]/.test(rest.slice(2 + authority.length))) return { ok: false, reason: 'illegal character in path' };
  const server = serverAuthority(authority);
  if (server === 'malformed') return { ok: false, reason: 'malformed authority' };
  return { ok: true, scheme, host: server?.host, port: server?.port ?? -1 };
}

/** `[userinfo@]host[:port]`; undefined when the authority is registry-based (Java then reports no host). */
function serverAuthority(authority: string): { host: string; port: number } | undefined | 'malformed' {
  if (authority === '') return undefined;
  const at = authority.lastIndexOf('@');
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  if (at >= 0 && /[[\]]/.test(authority.slice(0, at))) return 'malformed';
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0 || isIP(hostPort.slice(1, close)) !== 6) return 'malformed';
    host = hostPort.slice(0, close + 1);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return 'malformed';
    portText = after === '' ? undefined : after.slice(1);
  } else {
    if (/[[\]]/.test(hostPort)) return 'malformed';
    const colon = hostPort.lastIndexOf(':');
    host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    portText = colon >= 0 ? hostPort.slice(colon + 1) : undefined;
    if (!IPV4.test(host) && !HOSTNAME.test(host)) return undefined;
  }
  if (portText === undefined || portText === '') return { host, port: -1 };
  // A port Integer.parseInt cannot read makes the authority registry-based, not the URI invalid.
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  return port <= MAX_INT ? { host, port } : undefined;
}

/**
 * java.net.URL for a template of upstream's IngressUtils (`http://` added when no http(s) scheme is given): only a
 * port that is not an int or a broken IPv6 literal makes it malformed; spaces, odd host characters and ports past
 * 65535 are accepted as Java accepts them. The reason, or undefined when Java builds the URL.
 */
export function javaUrlProblem(url: string): string | undefined {
  const withScheme = /^https?:\/\//i.test(url) ? url : `http://${url}`;
  const authority = /^https?:\/\/([^/?#]*)/i.exec(withScheme)![1]!;
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0 || isIP(hostPort.slice(1, close)) !== 6) return 'invalid IPv6 address';
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return 'invalid authority';
    portText = after.slice(1);
  } else {
    const colon = hostPort.indexOf(':');
    portText = colon >= 0 ? hostPort.slice(colon + 1) : '';
  }
  if (portText === '') return undefined;
  // Integer.parseInt: an optional sign, digits, within int; then URL refuses ports below -1.
  if (!/^[+-]?\d+$/.test(portText)) return `invalid port ${shown(portText)}`;
  const port = Number(portText);
  return port > MAX_INT || port < -1 ? `invalid port ${shown(portText)}` : undefined;
}
