// The command-line shell the scripts share: options parsed strictly, and a refusal that prints why and the usage,
// then exits 2 (bad usage), so a wrong flag never runs half a command.
import { parseArgs, type ParseArgsConfig } from 'node:util';

let usageText = '';

export function refuse(message: string): never {
  console.error(`${message}\n${usageText}`);
  process.exit(2);
}

/** The script's options and positionals; a bad one is refused with this usage. */
export function commandLine<const T extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: T) {
  usageText = usage;
  try {
    return parseArgs({ allowPositionals: true, options });
  } catch (err) {
    return refuse((err as Error).message);
  }
}
