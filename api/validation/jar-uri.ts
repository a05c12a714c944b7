// Where a session job's jar may come from (upstream validateSessionJobJarURI). Resolving the host is I/O:
// the caller passes the addresses it resolved, and gets back whether to warn that it could not.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseJavaUri } from '../java-uri.js';
import { isObjectStoreScheme, parseObjectUri } from '../object-store-uri.js';
import type { FlatConfig } from '../flink-config.js';
import { option, OPTIONS } from '../operator-options.js';
import { configPath, fieldError, shown, type FieldError } from './field-error.js';

/**
 * What name resolution said of a jar host: its addresses; `undefined` when the name does not exist (admitted with a
 * warning: the webhook's DNS is not the cluster's); `unchecked` when resolution gave no answer (a timeout, a DNS
 * server failing) — then the host is refused: a slow lookup must never turn a restricted host into an allowed one.
 */
export interface HostResolution {
  host: string;
  addresses: readonly string[] | undefined;
  unchecked?: string;
}

/** The http(s) host of a jar URI the caller must resolve, if the restricted-host rule applies to it. */
export function jarHostToResolve(jarURI: string | undefined, config: FlatConfig): string | undefined {
  if (!jarURI || !restrictedHostsDisallowed(config)) return undefined;
  const uri = parseJavaUri(jarURI);
  if (!uri.ok || !['http', 'https'].includes(uri.scheme?.toLowerCase() ?? '') || !uri.host) return undefined;
  const host = bare(uri.host);
  return isIP(host) ? undefined : host;
}

export interface JarUriVerdict {
  errors: FieldError[];
  warnings: string[];
}

export function validateJarUri(
  jarURI: string,
  config: FlatConfig,
  resolution: HostResolution | undefined,
): JarUriVerdict {
  const field = 'spec.job.jarURI';
  const uri = parseJavaUri(jarURI);
  if (!uri.ok)
    return { errors: [fieldError(field, `${shown(jarURI)} is not a valid URI: ${uri.reason}`)], warnings: [] };
  if (uri.scheme === undefined)
    return { errors: [fieldError(field, `${shown(jarURI)} must include a scheme, e.g. https://`)], warnings: [] };
  const scheme = uri.scheme.toLowerCase();
  const allowed = allowedSchemes(config);
  if (!allowed.includes(scheme)) {
    return {
      errors: [
        fieldError(
          field,
          `scheme ${shown(scheme)} is not allowed (allowed: ${allowed.join(', ')}); extend ${configPath(OPTIONS.allowedSchemes.key)} in the operator configuration to allow it`,
        ),
      ],
      warnings: [],
    };
  }
  if (isObjectStoreScheme(scheme)) {
    const location = parseObjectUri(jarURI);
    return {
      errors: 'error' in location ? [fieldError(field, `${shown(jarURI)} ${location.error}`)] : [],
      warnings: [],
    };
  }
  if (!['http', 'https'].includes(scheme) || !restrictedHostsDisallowed(config)) {
    return { errors: [], warnings: [] };
  }
  // java.net.URI, which upstream uses, reports no host for `https:///x.jar` or a registry-based authority.
  if (!uri.host)
    return { errors: [fieldError(field, `${shown(jarURI)} must include a host for http and https`)], warnings: [] };
  const host = bare(uri.host);
  // An address literal is its own resolution; a resolution of some other host says nothing about this one.
  const resolved = resolution?.host === host ? resolution : undefined;
  if (!isIP(host) && resolved?.unchecked) {
    return {
      errors: [
        fieldError(
          field,
          `host ${shown(host)} could not be checked against the restricted addresses (${resolved.unchecked}); try again`,
        ),
      ],
      warnings: [],
    };
  }
  const addresses = isIP(host) ? [host] : resolved?.addresses;
  if (addresses === undefined) {
    return {
      errors: [],
      warnings: [
        `spec.job.jarURI: host ${shown(host)} does not resolve from the webhook; the operator checks it again before fetching the jar`,
      ],
    };
  }
  const restricted = addresses.filter(isRestrictedAddress);
  if (restricted.length > 0) {
    return {
      errors: [
        fieldError(
          field,
          `host ${shown(host)} resolves to a restricted address (${restricted.join(', ')}): loopback, link-local, private, wildcard and multicast addresses are not allowed`,
        ),
      ],
      warnings: [],
    };
  }
  return { errors: [], warnings: [] };
}

/** On unless the operator configuration says `false`, as upstream's default. */
function restrictedHostsDisallowed(config: FlatConfig): boolean {
  return option(config, OPTIONS.disallowRestrictedHosts);
}

export function allowedSchemes(config: FlatConfig): string[] {
  const raw = option(config, OPTIONS.allowedSchemes);
  const list = (raw ?? 'https')
    .split(/[;,]/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return list.length > 0 ? list : ['https'];
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '');

/**
 * Anything but a public unicast address: loopback, link-local, private, shared (CGNAT), reserved (240/4), broadcast,
 * multicast, unspecified, documentation and benchmarking ranges — classified by ipaddr.js's tables of special ranges,
 * not by hand. IPv4 written as IPv6 is judged as IPv4 (`::ffff:127.0.0.1`), and every IPv6 form that embeds or
 * translates IPv4 (`::127.0.0.1`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo) is refused outright: such a host
 * can reach whatever its embedded address reaches. Not an address at all: refused rather than guessed.
 */
export function isRestrictedAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    // ::/96 holds the unspecified and loopback addresses and the deprecated IPv4-compatible ones (RFC 4291 §2.5.5.1).
    else if (v6.parts.slice(0, 6).every((part) => part === 0)) return true;
  }
  return parsed.range() !== 'unicast';
}
