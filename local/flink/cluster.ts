// One real Flink cluster in one JVM, configured by a Flink configuration directory (config.yaml).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ManagedProcess } from '../control-plane/process.js';
import { httpCall } from '../http.js';
import { LAUNCHER_CLASS, type FlinkRunnerBuild } from './runner-build.js';

/** Flink's default `env.java.default-opts.all` for Java 17+: the module access its start scripts grant. */
const FLINK_JVM_MODULE_OPTIONS = [
  ...['java.base/sun.net.util', 'java.rmi/sun.rmi.registry', 'java.security.jgss/sun.security.krb5'].map(
    (p) => `--add-exports=${p}=ALL-UNNAMED`,
  ),
  ...['api', 'file', 'parser', 'tree', 'util'].map(
    (p) => `--add-exports=jdk.compiler/com.sun.tools.javac.${p}=ALL-UNNAMED`,
  ),
  ...[
    'java.lang',
    'java.net',
    'java.io',
    'java.nio',
    'sun.nio.ch',
    'java.lang.reflect',
    'java.text',
    'java.time',
    'java.util',
    'java.util.concurrent',
    'java.util.concurrent.atomic',
    'java.util.concurrent.locks',
  ].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
];

export interface FlinkCluster {
  process: ManagedProcess;
  restPort: number;
  restUrl: string;
}

export interface FlinkClusterOptions {
  name: string;
  confDir: string;
  logFile: string;
  /** JVM heap; the whole cluster (JobManager and TaskManager) shares it. */
  heapMb?: number;
}

export async function startFlinkCluster(build: FlinkRunnerBuild, options: FlinkClusterOptions): Promise<FlinkCluster> {
  const process = new ManagedProcess({
    name: options.name,
    command: 'java',
    args: [
      `-Xmx${options.heapMb ?? 512}m`,
      '-XX:+UseSerialGC',
      ...FLINK_JVM_MODULE_OPTIONS,
      '-cp',
      build.classpath,
      LAUNCHER_CLASS,
      options.confDir,
    ],
    logFile: options.logFile,
  });
  // The log is appended to across restarts: only this run's lines can announce this run's port.
  const logStart = existsSync(options.logFile) ? statSync(options.logFile).size : 0;
  process.start();
  let restPort = 0;
  await process.waitReady(async () => {
    const match = /flink-runner: (?:REST listening on port|application mode, REST on port) (\d+)/.exec(
      readFileSync(options.logFile).subarray(logStart).toString(),
    );
    if (!match) return false;
    restPort = Number(match[1]);
    return (await httpCall(`http://127.0.0.1:${restPort}/config`)).status === 200;
  }, 120_000);
  return { process, restPort, restUrl: `http://127.0.0.1:${restPort}` };
}
