// What the executables share on their command line: a usage error is the help, one line, and exit code 2.
import type { Argv } from 'yargs';

export function exitOnUsageError(msg: string | undefined, err: Error | undefined, y: Argv): void {
  if (err) throw err;
  console.error(`${y.help()}\n\nerror: ${msg}`);
  process.exit(2);
}
