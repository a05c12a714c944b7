// The local stack's one HTTP(S) helper: health and readiness probes of its components.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** TLS options as node:https takes them (`ca`, client `cert`/`key`, or `rejectUnauthorized: false`). */
export type TlsOptions = Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;

export function httpCall(
  url: string,
  options: { method?: string; json?: unknown; tls?: TlsOptions; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const req = request(
      url,
      {
        ...options.tls,
        method: options.method ?? (body ? 'POST' : 'GET'),
        timeout: options.timeoutMs ?? 2000,
        ...(body ? { headers: { 'content-type': 'application/json' } } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}
