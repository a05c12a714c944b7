// Where a session job's jar may come from (upstream validateSessionJobJarURI). Resolving the host is I/O:
// the caller passes the addresses it resolved, and gets back whether to warn that it could not.
import { isIP } from 'node:net';
import type { FlatConfig } from '../flink-config.js';
import { option, OPTIONS } from '../operator-options.js';
import { configPath, fieldError, shown, type FieldError } from './field-error.js';


/** What name resolution said of a jar host; `undefined` addresses mean it did not resolve. */
export interface HostResolution {
  host: string;
  addresses: readonly string[] | undefined;
}

/** The http(s) host of a jar URI the caller must resolve, if the restricted-host rule applies to it. */
export function jarHostToResolve(jarURI: string | undefined, config: FlatConfig): string | undefined {
  if (!jarURI || !restrictedHostsDisallowed(config)) return undefined;
  const url = parseUri(jarURI);
  if (!url || !['http:', 'https:'].includes(url.protocol)) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? undefined : host;
}

export interface JarUriVerdict {
  errors: FieldError[];
  warnings: string[];
}

export function validateJarUri(jarURI: string, config: FlatConfig, resolution: HostResolution | undefined): JarUriVerdict {
  const field = 'spec.job.jarURI';
  const url = parseUri(jarURI);
  if (!url) {
    const reason = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(jarURI) ? `${shown(jarURI)} is not a valid URI` : `${shown(jarURI)} must include a scheme, e.g. https://`;
    return { errors: [fieldError(field, reason)], warnings: [] };
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const allowed = allowedSchemes(config);
  if (!allowed.includes(scheme)) {
    return {
      errors: [fieldError(field, `scheme ${shown(scheme)} is not allowed (allowed: ${allowed.join(', ')}); extend ${configPath(OPTIONS.allowedSchemes.key)} in the operator configuration to allow it`)],
      warnings: [],
    };
  }
  if (!['http', 'https'].includes(scheme) || !restrictedHostsDisallowed(config)) {
    return { errors: [], warnings: [] };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An address literal is its own resolution; a resolution of some other host says nothing about this one.
  const addresses = isIP(host) ? [host] : resolution?.host === host ? resolution.addresses : undefined;
  if (addresses === undefined) {
    return {
      errors: [],
      warnings: [`spec.job.jarURI: host ${shown(host)} does not resolve from the webhook; the operator checks it again before fetching the jar`],
    };
  }
  const restricted = addresses.filter(isRestrictedAddress);
  if (restricted.length > 0) {
    return { errors: [fieldError(field, `host ${shown(host)} resolves to a restricted address (${restricted.join(', ')}): loopback, link-local, private, wildcard and multicast addresses are not allowed`)], warnings: [] };
  }
  return { errors: [], warnings: [] };
}

/** On unless the operator configuration says `false`, as upstream's default. */
function restrictedHostsDisallowed(config: FlatConfig): boolean {
  return option(config, OPTIONS.disallowRestrictedHosts);
}

export function allowedSchemes(config: FlatConfig): string[] {
  const raw = option(config, OPTIONS.allowedSchemes);
  const list = (raw ?? 'https').split(/[;,]/).map((s) => s.trim().toLowerCase()).filter(Boolean);
  return list.length > 0 ? list : ['https'];
}

function parseUri(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Loopback, link-local, private (site-local and unique-local), wildcard or multicast — what a jar fetch must never reach. */
export function isRestrictedAddress(address: string): boolean {
  const v4 = ipv4Of(address);
  if (v4) {
    const [a, b] = v4;
    return (
      a === 0 || a === 127 || a === 10 || (a === 169 && b === 254) || (a === 172 && b! >= 16 && b! <= 31) ||
      (a === 192 && b === 168) || (a! >= 224 && a! <= 239) || (a === 100 && b! >= 64 && b! <= 127)
    );
  }
  if (isIP(address) !== 6) return true; // not an address at all: refuse rather than guess
  const groups = expandIpv6(address);
  const first = groups[0]!;
  if (groups.every((g) => g === 0)) return true; // ::
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true; // ::1
  return (first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0 || (first & 0xfe00) === 0xfc00 || (first & 0xff00) === 0xff00;
}

/** An IPv4 address, also when written as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
function ipv4Of(address: string): number[] | undefined {
  if (isIP(address) === 4) return address.split('.').map(Number);
  if (isIP(address) !== 6) return undefined;
  const groups = expandIpv6(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff];
  }
  return undefined;
}

function expandIpv6(address: string): number[] {
  let text = address.split('%')[0]!;
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail[1]!.split('.').map(Number);
    text = text.slice(0, -v4Tail[1]!.length) + `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}
