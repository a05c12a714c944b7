// A long-running child process of the local stack: output to a log file, readiness by polling, and no
// child outliving the stack (every live child is killed when this process exits, however it exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants as osConstants } from 'node:os';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** The process ended before it was ready (not a timeout): what a container runtime calls a crash. */
export class ExitedDuringStartup extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: Record<string, string>;
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How it ended, as a container runtime reports it: the exit code, or 128 + the signal's number. */
  exitCode(): number | undefined {
    if (!this.child || this.running()) return undefined;
    if (this.child.exitCode !== null) return this.child.exitCode;
    return 128 + (osConstants.signals[this.child.signalCode!] ?? 0);
  }

  start(): void {
    if (this.running()) throw new Error(`${this.spec.name} is already running`);
    installExitHook();
    const log = openSync(this.spec.logFile, 'a');
    // A process group of its own: a terminal's Ctrl-C (SIGINT to the whole foreground group) then reaches only the
    // stack, which stops its children in order — clients first, etcd last — instead of all at once.
    const child = spawn(this.spec.command, this.spec.args, {
      stdio: ['ignore', log, log],
      env: { ...process.env, ...this.spec.env },
      detached: true,
    });
    closeSync(log);
    live.add(child);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        live.delete(child);
        resolve(code);
      });
      child.once('error', () => {
        live.delete(child);
        resolve(null);
      });
    });
  }

  /** Polls `ready` until it holds; fails early, with the log's tail, if the process dies first. */
  async waitReady(ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running())
        throw new ExitedDuringStartup(`${this.spec.name} exited during start-up:\n${this.logTail()}`, this.exitCode()!);
      if (await ready().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.spec.name} was not ready within ${timeoutMs / 1000} s:\n${this.logTail()}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.child || !this.running()) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  logTail(lines = 25): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * A loopback port nobody listens on, chosen below the kernel's ephemeral range: a port from that range can be
 * taken by an outgoing connection between our check and the component's bind.
 */
export async function freePort(): Promise<number> {
  const ephemeralStart = (() => {
    try {
      return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
    } catch {
      return 32768;
    }
  })();
  const low = 20000;
  const high = Math.max(low + 1000, ephemeralStart) - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!taken.has(port) && (await canBind(port))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port between ${low} and ${high}`);
}

/** Ports handed out in this process, so two components never get the same one. */
const taken = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
