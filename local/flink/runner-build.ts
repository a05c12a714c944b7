// The Flink runner (local/flink-runner, a Maven project on real Flink from Maven Central), built once per Flink line
// and cached by its version and a digest of its sources: the launcher jar plus the classpath of that line's Flink jars
// in Maven's own repository.
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

/**
 * The Flink lines the local stack runs, each the newest patch Maven Central serves here, and the `spec.flinkVersion`
 * values each runs. `v1_19` runs on 1.20: Maven Central serves no 1.19 runtime here, and 1.20 still reads 1.19's
 * configuration keys (as deprecated fallbacks). `factories`: the flink-kubernetes release the golden test takes Flink's
 * own Kubernetes factories from, the newest served of the line (its Flink dependencies resolve to `flink`).
 */
export const FLINK_LINES = [
  { flink: '1.20.5', factories: '1.20.1', runs: ['v1_19', 'v1_20'] },
  { flink: '2.2.1', factories: '2.2.0', runs: ['v2_2'] },
  { flink: '2.3.0', factories: '2.3.0', runs: ['v2_3'] },
] as const satisfies readonly FlinkLine[];

export interface FlinkLine {
  flink: string;
  factories: string;
  runs: readonly string[];
}

export interface FlinkRunnerBuild {
  flinkVersion: string;
  /** The `spec.flinkVersion` values this build runs. */
  runs: readonly string[];
  /** `java -cp` value: the launcher jar and every Flink jar. */
  classpath: string;
  /** Our example jobs, a user jar like any other (Maven Central does not serve Flink's own example jars here). */
  examplesJar: string;
  /** Jobs that answer to upstream's autoscaling example classes, in the jar its image has at /opt/flink/usrlib. */
  autoscalingJar: string;
}

export const LAUNCHER_CLASS = 'dev.flinkoperatorts.runner.FlinkLauncher';

/** The line the pom names: the default one, which runs whatever does not say its Flink version. */
export function pinnedFlinkVersion(projectDir: string): string {
  const match = /<flink\.version>([^<]+)<\/flink\.version>/.exec(readFileSync(join(projectDir, 'pom.xml'), 'utf8'));
  if (!match?.[1]) throw new Error(`${projectDir}/pom.xml does not pin flink.version`);
  return match[1];
}

export function defaultLine(projectDir: string): FlinkLine {
  const version = pinnedFlinkVersion(projectDir);
  const line = FLINK_LINES.find((l) => l.flink === version);
  if (!line) throw new Error(`${projectDir}/pom.xml pins Flink ${version}, which is not one of FLINK_LINES`);
  return line;
}

/** Every line's runner, the default line's first (built one after the other: Maven's repository is shared). */
export async function ensureFlinkRunners(
  projectDir: string,
  progress: (line: string) => void,
): Promise<FlinkRunnerBuild[]> {
  const first = defaultLine(projectDir);
  const builds = [];
  for (const line of [first, ...FLINK_LINES.filter((l) => l !== first)])
    builds.push(await ensureFlinkRunner(projectDir, progress, line));
  return builds;
}

/** One line's runner (the default line's without `line`), built in a copy of the project so lines never share a target. */
export async function ensureFlinkRunner(
  projectDir: string,
  progress: (line: string) => void,
  line: FlinkLine = defaultLine(projectDir),
): Promise<FlinkRunnerBuild> {
  const dir = join(cacheRoot(), `flink-runner-${line.flink}-${sourceDigest(projectDir)}`);
  const cached = readBuild(dir, line);
  if (cached) return cached;

  requireTool('java', ['-version'], 'the local stack runs real Flink, which needs Java 17 or newer');
  requireTool('mvn', ['-v'], 'the local stack fetches Flink from Maven Central with Maven');
  progress(`building the Flink ${line.flink} runner with Maven (first run only)`);
  mkdirSync(cacheRoot(), { recursive: true });
  const staging = mkdtempSync(join(cacheRoot(), '.building-flink-'));
  const project = join(staging, 'project');
  try {
    cpSync(projectDir, project, { recursive: true, filter: (from) => !from.startsWith(join(projectDir, 'target')) });
    const versions = [`-Dflink.version=${line.flink}`, `-Dflink.kubernetes.version=${line.factories}`];
    await runTool('mvn', ['-B', '-q', ...versions, 'package', '-DskipTests'], project);
    await runTool(
      'mvn',
      ['-B', '-q', ...versions, 'dependency:build-classpath', `-Dmdep.outputFile=${join(staging, 'classpath.txt')}`],
      project,
    );
    cpSync(join(project, 'target', 'flink-runner-0.1.0.jar'), join(staging, 'flink-runner.jar'));
    cpSync(join(project, 'target', 'flink-runner-0.1.0-examples.jar'), join(staging, 'flink-examples.jar'));
    cpSync(join(project, 'target', 'flink-runner-0.1.0-autoscaling.jar'), join(staging, 'autoscaling.jar'));
    rmSync(project, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const build = readBuild(dir, line);
  if (!build) throw new Error(`the Flink runner build in ${dir} is incomplete`);
  return build;
}

/** A cached build, if it is whole: Maven's repository may have lost jars since. */
function readBuild(dir: string, line: FlinkLine): FlinkRunnerBuild | undefined {
  const jar = join(dir, 'flink-runner.jar');
  const examplesJar = join(dir, 'flink-examples.jar');
  const autoscalingJar = join(dir, 'autoscaling.jar');
  const classpathFile = join(dir, 'classpath.txt');
  if (![jar, examplesJar, autoscalingJar, classpathFile].every((f) => existsSync(f))) return undefined;
  const entries = readFileSync(classpathFile, 'utf8').trim().split(':');
  if (!entries.every((e) => existsSync(e))) return undefined;
  return {
    flinkVersion: line.flink,
    runs: line.runs,
    classpath: [jar, ...entries].join(':'),
    examplesJar,
    autoscalingJar,
  };
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
