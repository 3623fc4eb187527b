import type { Command, Option } from 'commander';
import { addOptions } from './options.js';

/** Everything a subcommand's help says: what it does, its arguments and its options, in order. */
export interface SubcommandSpec {
  description: string;
  /** Each argument as `[syntax, help]`: `<name>` required, `[name]` optional, `[names...]` variadic. */
  arguments?: readonly (readonly [string, string])[];
  options: readonly Option[];
}

/**
 * Declares `name` under `parent` from its spec; the caller adds the action.
 * One declaration per command reads as a table of the CLI rather than as a
 * chain of commander calls.
 */
export function subcommand(parent: Command, name: string, spec: SubcommandSpec): Command {
  const command = parent.command(name).description(spec.description);
  for (const [syntax, help] of spec.arguments ?? []) command.argument(syntax, help);
  return addOptions(command, [...spec.options]);
}
