// The command line every script a user runs shares, so they all behave alike (docs/reference-cli.md):
//   --help, -h          the usage on stdout, exit 0;
//   bad usage           one line naming the problem, then the usage, on stderr, exit 2 (a wrong flag never runs half
//                       a command);
//   a run-time failure  one line `error: …` on stderr, exit 1; the stack trace only with VPP_DEBUG=1;
//   --json              (commands whose output is data) that data alone on stdout, one JSON value a line; anything
//                       else a command or a library would print goes to stderr.
import { parseArgs, type ParseArgsConfig } from 'node:util';

let usageText = '';
let json = false;

/** Bad usage: why, and the usage, on stderr; exit 2. */
export function refuse(message: string, usage = usageText): never {
  process.stderr.write(`${oneLine(message)}\n${usage.trimEnd()}\n`);
  process.exit(2);
}

/** A failure at run time: `error: …` on stderr (the stack with VPP_DEBUG=1); exit 1. */
export function fail(err: unknown): never {
  const error = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(
    `${process.env.VPP_DEBUG === '1' ? (error.stack ?? error.message) : `error: ${describe(error)}`}\n`,
  );
  process.exit(1);
}

/**
 * This process is a command: whatever it throws, or leaves rejected, ends it as a run-time failure; and the AWS SDK's
 * notice about future Node versions (several lines) stays off stderr, as `npm start` keeps it off.
 */
export function runAsCommand(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.listenerCount('uncaughtException') > 0) return;
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}

/** Prints the usage on stdout and exits 0. */
export function help(usage = usageText): never {
  process.stdout.write(`${usage.trimEnd()}\n`);
  process.exit(0);
}

/**
 * The script's options and positionals. `--help`/`-h` print the usage and exit; a bad option is refused with it.
 * Declaring `json` gives the command `--json`: stdout then carries only what `output` prints.
 */
export function commandLine<const T extends NonNullable<ParseArgsConfig['options']>>(
  usage: string,
  options: T,
  args = process.argv.slice(2),
) {
  usageText = usage;
  runAsCommand();
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } } as T,
    });
  } catch (err) {
    // Node's hint on positionals that start with '-' after the first sentence is not this command's usage
    return refuse((err as Error).message.replace(/\. To specify a positional argument[^]*$/, ''));
  }
  if ((parsed.values as { help?: boolean }).help) help();
  if ((parsed.values as { json?: boolean }).json === true) {
    json = true;
    // a library's or a notice's line must not land among the data
    console.log = console.info = console.debug = console.error;
  }
  return parsed;
}

/** One value of the command's data on stdout: a JSON line (indented for a reader when `pretty` and not --json). */
export function output(value: unknown, pretty = false): void {
  process.stdout.write(`${JSON.stringify(value, null, pretty && !json ? 2 : undefined)}\n`);
}

function describe(error: Error): string {
  const name =
    error.name && !['Error', 'TypeError'].includes(error.name) && !error.message.startsWith(error.name)
      ? `${error.name}: `
      : '';
  return oneLine(`${name}${error.message}`);
}

function oneLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ') || 'failed'
  );
}
