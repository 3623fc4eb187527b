import { CommanderError } from 'commander';
import { errorMessage, NotFoundError } from '../shared/errors.js';

/** What a script can rely on, whatever the command. */
export const ExitCode = {
  /** Everything asked for was done: a Completed backup or restore, a verified catalog. */
  Ok: 0,
  /** The operation ran but was not a full success (PartiallyFailed, Failed, tampered, timed out). */
  NotFullSuccess: 1,
  /** Bad arguments or configuration: nothing was done. */
  Usage: 2,
  /** What was named (a backup, a restore) does not exist. */
  NotFound: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A flag, file or setting that is wrong: the message says what and where. Exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Something named that does not exist. Exits 3. */
export class CliNotFoundError extends Error {
  override readonly name = 'CliNotFoundError';
}

/** Commander's usage errors (unknown option, missing argument, bad choice) are exit 2. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (error instanceof UsageError) return ExitCode.Usage;
  if (error instanceof CliNotFoundError || error instanceof NotFoundError) return ExitCode.NotFound;
  return ExitCode.NotFullSuccess;
}

/** One line, no stack: the message, then each cause's where it adds something. */
export function oneLine(error: unknown): string {
  let text = errorMessage(error);
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    const detail = errorMessage(cause);
    if (detail && !text.includes(detail)) text += ` (${detail})`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** A commander action whose outcome is an exit code (left in process.exitCode for main). */
export function act<A extends unknown[]>(
  fn: (...args: A) => Promise<ExitCode>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    process.exitCode = await fn(...args);
  };
}
