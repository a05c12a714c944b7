// The Flink runner (local/flink-runner, a Maven project on real Flink from Maven Central), built once and cached
// by a digest of its sources: the launcher jar plus the classpath of Flink's jars in Maven's own repository.
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { cacheRoot } from '../control-plane/binaries.js';
import { requireTool, runTool } from '../tools.js';

export interface FlinkRunnerBuild {
  flinkVersion: string;
  /** `java -cp` value: the launcher jar and every Flink jar. */
  classpath: string;
  /** Our example jobs, a user jar like any other (Maven Central does not serve Flink's own example jars here). */
  examplesJar: string;
}

export const LAUNCHER_CLASS = 'dev.flinkoperatorts.runner.FlinkLauncher';

export function pinnedFlinkVersion(projectDir: string): string {
  const match = /<flink\.version>([^<]+)<\/flink\.version>/.exec(readFileSync(join(projectDir, 'pom.xml'), 'utf8'));
  if (!match?.[1]) throw new Error(`${projectDir}/pom.xml does not pin flink.version`);
  return match[1];
}

export async function ensureFlinkRunner(
  projectDir: string,
  progress: (line: string) => void,
): Promise<FlinkRunnerBuild> {
  const flinkVersion = pinnedFlinkVersion(projectDir);
  const dir = join(cacheRoot(), `flink-runner-${flinkVersion}-${sourceDigest(projectDir)}`);
  const cached = readBuild(dir, flinkVersion);
  if (cached) return cached;

  requireTool('java', ['-version'], 'the local stack runs real Flink, which needs Java 17 or newer');
  requireTool('mvn', ['-v'], 'the local stack fetches Flink from Maven Central with Maven');
  progress(`building the Flink ${flinkVersion} runner with Maven (first run only)`);
  mkdirSync(cacheRoot(), { recursive: true });
  const staging = mkdtempSync(join(cacheRoot(), '.building-flink-'));
  try {
    await runTool('mvn', ['-B', '-q', 'package', '-DskipTests'], projectDir);
    await runTool(
      'mvn',
      ['-B', '-q', 'dependency:build-classpath', `-Dmdep.outputFile=${join(staging, 'classpath.txt')}`],
      projectDir,
    );
    cpSync(join(projectDir, 'target', 'flink-runner-0.1.0.jar'), join(staging, 'flink-runner.jar'));
    cpSync(join(projectDir, 'target', 'flink-runner-0.1.0-examples.jar'), join(staging, 'flink-examples.jar'));
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const build = readBuild(dir, flinkVersion);
  if (!build) throw new Error(`the Flink runner build in ${dir} is incomplete`);
  return build;
}

/** A cached build, if it is whole: Maven's repository may have lost jars since. */
function readBuild(dir: string, flinkVersion: string): FlinkRunnerBuild | undefined {
  const jar = join(dir, 'flink-runner.jar');
  const examplesJar = join(dir, 'flink-examples.jar');
  const classpathFile = join(dir, 'classpath.txt');
  if (![jar, examplesJar, classpathFile].every((f) => existsSync(f))) return undefined;
  const entries = readFileSync(classpathFile, 'utf8').trim().split(':');
  if (!entries.every((e) => existsSync(e))) return undefined;
  return { flinkVersion, classpath: [jar, ...entries].join(':'), examplesJar };
}

function sourceDigest(projectDir: string): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name !== 'target') visit(join(path, name));
    } else {
      hash.update(relative(projectDir, path)).update(readFileSync(path));
    }
  };
  visit(projectDir);
  return hash.digest('hex').slice(0, 12);
}
