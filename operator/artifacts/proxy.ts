// Which proxy a download goes through, as curl and Go's net/http read the environment: HTTPS_PROXY for https,
// HTTP_PROXY for http (lower-case names too), and NO_PROXY — hosts, `.domain` / `*.domain` suffixes, `host:port`,
// IP addresses, `*` for everything — for what goes direct.
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

export function proxyFor(url: URL, env: ProxyEnvironment): string | undefined {
  const read = (name: string) => env[name] ?? env[name.toLowerCase()];
  const proxy =
    url.protocol === 'https:' ? read('HTTPS_PROXY') : url.protocol === 'http:' ? read('HTTP_PROXY') : undefined;
  if (!proxy || bypassed(url, read('NO_PROXY') ?? '')) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      const [name, entryPort] = hostAndPort(entry.toLowerCase());
      if (entryPort && entryPort !== port) return false;
      const suffix = name.replace(/^\*?\./, '');
      return host === suffix || host.endsWith(`.${suffix}`);
    });
}

/** `host`, `host:port`, `[v6]:port`, or a bare IPv6 address (more than one colon, no port). */
function hostAndPort(entry: string): [string, string | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1]!, bracketed[2]];
  if (entry.split(':').length > 2) return [entry, undefined];
  const [name = '', port] = entry.split(':');
  return [name, port];
}
