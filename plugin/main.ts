#!/usr/bin/env node
// kubectl-flink: `kubectl flink …`, the everyday operations on FlinkDeployments and FlinkSessionJobs. kubectl's
// conventions throughout: -n/-A/--context/--kubeconfig, -o table|wide|json|yaml|name, exit 0 success, 1 error,
// 2 usage. Each verb is a module of plugin/commands/; what it decides is in api/cli/.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { autoscaler } from './commands/autoscaler.js';
import { changeSpec, type SpecVerb } from './commands/change-spec.js';
import { list } from './commands/list.js';
import { rollback } from './commands/rollback.js';
import { savepoint } from './commands/savepoint.js';
import { status } from './commands/status.js';
import { OUTPUT_FORMATS, PluginError, print, type OutputFormat } from './output.js';
import { Session, type GlobalOptions } from './session.js';
import { PLUGIN_VERSION } from './version.js';
import { completionScript } from '../api/cli/completion.js';

type Args = Record<string, unknown>;
const text = (argv: Args, key: string): string | undefined => (typeof argv[key] === 'string' ? argv[key] : undefined);
const output = (argv: Args): OutputFormat => (argv.output as OutputFormat | undefined) ?? 'table';

function globals(argv: Args): GlobalOptions {
  return {
    namespace: text(argv, 'namespace'),
    allNamespaces: argv.allNamespaces === true,
    context: text(argv, 'context'),
    kubeconfig: text(argv, 'kubeconfig'),
  };
}

/** Opens the session a verb needs, runs it, and turns what it returns or throws into the exit code. */
function run(verb: (session: Session, argv: Args, name: string) => Promise<number>) {
  return async (argv: Args): Promise<void> => {
    let session: Session | undefined;
    try {
      session = await Session.open(globals(argv));
      process.exitCode = await verb(session, argv, text(argv, 'name') ?? '');
    } catch (err) {
      const known = err instanceof PluginError;
      process.stderr.write(`error: ${known ? err.message : ((err as Error).message ?? String(err)).split('\n')[0]}\n`);
      process.exitCode = known ? err.exitCode : 1;
    } finally {
      session?.close();
    }
  };
}

const named = <T>(y: Argv<T>) =>
  y.positional('name', {
    type: 'string',
    demandOption: true,
    describe: 'NAME (a FlinkDeployment, else a FlinkSessionJob), deployment/NAME or sessionjob/NAME',
  });
const specVerb = (verb: SpecVerb) => run((session, _argv, name) => changeSpec(session, name, verb));

await yargs(hideBin(process.argv))
  .scriptName('kubectl flink')
  .usage(
    '$0 <command> [options]\n\nEveryday operations on FlinkDeployments and FlinkSessionJobs (flink.apache.org/v1beta1).',
  )
  .option('namespace', {
    alias: 'n',
    type: 'string',
    describe: 'namespace (default: the context\'s, else "default")',
    global: true,
  })
  .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'every namespace (list)', global: true })
  .option('context', { type: 'string', describe: 'kubeconfig context to use', global: true })
  .option('kubeconfig', {
    type: 'string',
    describe: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)',
    global: true,
  })
  .option('output', { alias: 'o', choices: OUTPUT_FORMATS, default: 'table', describe: 'output format', global: true })
  .command(
    ['list', 'ls'],
    'list FlinkDeployments and FlinkSessionJobs',
    (y) => y,
    run((session, argv) => list(session, output(argv))),
  )
  .command(
    'status <name>',
    'lifecycle, job, JobManager, last savepoint, error and events of one resource; exits 1 when FAILED',
    (y) =>
      named(y).option('watch', {
        alias: 'w',
        type: 'boolean',
        describe:
          'follow changes until it settles where its spec asks: exit 0 on STABLE (or SUSPENDED with its cluster gone, when suspended), 1 on FAILED, ROLLED_BACK or a spec the operator refused',
      }),
    run((session, argv, name) => status(session, name, output(argv), argv.watch === true)),
  )
  .command(
    'autoscaler <name>',
    "the autoscaler's last decision for the job: per vertex its parallelism, recommendation, rates, band and why",
    named,
    run((session, argv, name) => autoscaler(session, name, output(argv))),
  )
  .command('suspend <name>', 'suspend the job (spec.job.state: suspended)', named, specVerb('suspend'))
  .command('resume <name>', 'resume the job (spec.job.state: running)', named, specVerb('resume'))
  .command('restart <name>', 'restart as it is (spec.restartNonce bumped)', named, specVerb('restart'))
  .command(
    'rollback <name>',
    'write the last stable spec back as .spec (like kubectl rollout undo), after showing the difference',
    (y) => named(y).option('yes', { alias: 'y', type: 'boolean', describe: 'do not ask' }),
    run((session, argv, name) => rollback(session, name, argv.yes === true)),
  )
  .command(
    'savepoint <name>',
    'take a savepoint (a FlinkStateSnapshot, or the nonce where snapshot resources are off)',
    (y) =>
      named(y)
        .option('wait', { type: 'boolean', describe: 'wait for it and print its path' })
        .option('timeout', { type: 'number', default: 300, describe: 'seconds to wait' }),
    run((session, argv, name) => savepoint(session, name, argv.wait === true, Number(argv.timeout) * 1000)),
  )
  .command(
    'completion <shell>',
    'print a completion script (bash or zsh)',
    (y) => y.positional('shell', { choices: ['bash', 'zsh'], demandOption: true }),
    (argv: Args) => {
      process.stdout.write(completionScript(argv.shell === 'zsh' ? 'zsh' : 'bash'));
    },
  )
  .command(
    'version',
    'print the plugin version',
    (y) => y,
    (argv: Args) => {
      const version = { plugin: PLUGIN_VERSION, apiVersion: 'flink.apache.org/v1beta1' };
      print(
        output(argv) === 'json'
          ? JSON.stringify(version, null, 2)
          : `kubectl-flink ${PLUGIN_VERSION} (${version.apiVersion})`,
      );
    },
  )
  .version(false)
  .demandCommand(1, 'a command is required')
  .strict()
  .help()
  .alias('help', 'h')
  .fail((msg, err, y) => {
    if (err) throw err;
    process.stderr.write(`${y.help()}\n\nerror: ${msg}\n`);
    process.exit(2);
  })
  .parseAsync();
