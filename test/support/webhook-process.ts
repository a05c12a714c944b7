// Runs the real `flink-webhook` executable as a child process, with certificates from its own `certs` command.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const webhookBin = join(repoRoot, 'dist/webhook/main.js');

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface WebhookProcess {
  port: number;
  certDir: string;
  ca: string;
  agent: Agent;
  logs: string[];
  proc: ChildProcess;
  post(path: string, body: string | Buffer | unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  get(path: string): Promise<HttpAnswer>;
  alive(): boolean;
  /** The first log line containing `text`, waiting briefly: a line may arrive just after its response. */
  logLine(text: string, timeoutMs?: number): Promise<string | undefined>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function writeCertificates(dir: string, hosts = ['localhost', '127.0.0.1']): void {
  const out = spawnSync(process.execPath, [webhookBin, 'certs', '--out', dir, ...hosts.flatMap((h) => ['--host', h])], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`flink-webhook certs failed: ${out.stderr}`);
}

/** Needs the webhook at log level info: it learns the port from the "listening" line. */
export async function startWebhook(
  extraArgs: string[] = [],
  options: { config?: string; certDir?: string; bin?: string; nodeFlags?: string[]; env?: Record<string, string> } = {},
): Promise<WebhookProcess> {
  const certDir = options.certDir ?? mkdtempSync(join(tmpdir(), 'flink-webhook-test-'));
  if (!options.certDir) writeCertificates(certDir);
  const args = [
    options.bin ?? webhookBin,
    '--port',
    '0',
    '--bind-address',
    '127.0.0.1',
    '--tls-cert-file',
    join(certDir, 'tls.crt'),
    '--tls-private-key-file',
    join(certDir, 'tls.key'),
    ...extraArgs,
  ];
  if (options.config !== undefined) {
    const configFile = join(certDir, 'operator-config.yaml');
    writeFileSync(configFile, options.config);
    args.push('--config', configFile);
  }
  const proc = spawn(process.execPath, [...(options.nodeFlags ?? []), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const logs: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (logs.length > 20_000) logs.splice(0, 10_000); // a benchmark logs a line per review
        const match = /"port":(\d+).*admission webhook listening/.exec(line);
        if (match) resolve(Number(match[1]));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
    proc.once('exit', (code) =>
      reject(new Error(`flink-webhook exited (${code}) before listening:\n${logs.join('\n')}`)),
    );
  });
  const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
  const agent = new Agent({ ca, keepAlive: true, maxSockets: 16 });
  const call = (
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
    retried = false,
  ): Promise<HttpAnswer> =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, agent, servername: 'localhost', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      });
      // A kept-alive socket the server closed as this request went out: Node's documented race, retried once as
      // Node's docs advise (req.reusedSocket); a fresh connection's reset is still an error.
      req.on('error', (err: NodeJS.ErrnoException) =>
        req.reusedSocket && err.code === 'ECONNRESET' && !retried
          ? call(method, path, body, headers, true).then(resolve, reject)
          : reject(err),
      );
      req.setTimeout(15_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 15 s`)));
      req.end(body);
    });
  return {
    port,
    certDir,
    ca,
    agent,
    logs,
    proc,
    post: (path, body, headers = { 'content-type': 'application/json' }) =>
      call('POST', path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers),
    get: (path) => call('GET', path),
    alive: () => proc.exitCode === null && proc.signalCode === null,
    logLine: async (text, timeoutMs = 3000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = logs.find((l) => l.includes(text));
        if (line || Date.now() > deadline) return line;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        agent.destroy();
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      }),
  };
}

/** Completes a handshake (or fails it) and reports what was negotiated. */
export function handshake(
  port: number,
  options: ConnectionOptions,
): Promise<{ protocol: string | null; cipher: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => {
      const result = {
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().name,
        fingerprint: socket.getPeerCertificate().fingerprint256,
      };
      socket.end();
      resolve(result);
    });
    socket.once('error', reject);
  });
}

/** The resident memory of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]) / 1024;
}
