// The `lifeboat` command itself, loaded by main.ts once the Node version is
// known to be new enough.
import { CommanderError } from 'commander';
import { ExitCode, exitCodeFor, oneLine } from './exit-codes.js';
import { createProgram } from './program.js';

/** Runs one command; every failure becomes one `lifeboat: ...` line on stderr and an exit code. */
async function main(argv: string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv);
    return Number(process.exitCode ?? ExitCode.Ok);
  } catch (error) {
    // Commander has already printed its own usage errors (and help).
    if (!(error instanceof CommanderError)) {
      process.stderr.write(`lifeboat: ${oneLine(error)}\n`);
      if (process.env['LIFEBOAT_DEBUG'] && error instanceof Error && error.stack) {
        process.stderr.write(`${error.stack}\n`);
      }
    }
    return exitCodeFor(error);
  }
}

const code = await main(process.argv);
// Clients may keep sockets open; exit once what was written has been flushed.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
