import { Command } from 'commander';
import { registerBackupCommands } from './backup-commands.js';
import { registerCatalogCommands } from './catalog-commands.js';
import { registerDrillCommands } from './drill-commands.js';
import { registerRestoreCommands } from './restore-commands.js';
import { registerRetentionCommands } from './retention-commands.js';
import { registerScheduleCommands } from './schedule-commands.js';
import { registerUiCommand } from './ui-command.js';

/**
 * The `lifeboat` command tree. Usage errors throw (exitOverride) instead of
 * exiting, so main maps them to exit 2; their message is one line on
 * stderr, prefixed like every other error. Subcommands inherit both
 * settings because each is made with `.command()` from its parent.
 */
export function createProgram(): Command {
  const program = new Command('lifeboat')
    .description(
      'Back up and restore Kubernetes clusters: in-process against kubeconfig contexts and a ' +
        'file:// or gs:// store, or through the deployed Lifeboat pipeline (--pipeline).\n\n' +
        'Exit codes: 0 success; 1 ran but not a full success (PartiallyFailed, Failed, failed ' +
        'verification, timed out); 2 bad arguments or configuration; 3 not found.',
    )
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      outputError: (text, write) => write(`lifeboat: ${text.replace(/^error: /, '')}`),
    });
  registerBackupCommands(program);
  registerRestoreCommands(program);
  registerScheduleCommands(program);
  registerCatalogCommands(program);
  registerRetentionCommands(program);
  registerDrillCommands(program);
  registerUiCommand(program);
  return program;
}
