// `baton config show|schema`: the command line. What each does is in config.ts, imported
// when one of them runs.
import type { Command } from 'commander';
import { addHelpExamples } from '../help.ts';

export interface ConfigCommandOptions {
  configDir?: string;
}
export type ShowConfigCommandOptions = ConfigCommandOptions & { json?: boolean };
export type ConfigSchemaCommandOptions = ConfigCommandOptions & { output?: string };

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('show the settings in force, and write their JSON schema for editors');
  addHelpExamples(config, {
    examples: [
      { command: 'baton config show', does: 'the settings files read, and the workspaces, launchers, tokens... they declare' },
      { command: 'baton config show --json', does: 'the same, for scripts' },
      { command: 'baton config schema --output settings.schema.json', does: 'the JSON schema for the plugins installed here' },
    ],
    docs: 'settings.md#layered-settings',
  });

  const show = config
    .command('show')
    .description('print the settings files read (user, then project) and the workspaces, launchers, services, tokens, connectors and plugins they give, each with the file it came from')
    .option('--json', 'print JSON instead of text')
    .option('--config-dir <dir>', 'read the settings file of this directory only')
    .action(async (options: ShowConfigCommandOptions) => (await import('./config.ts')).showConfigCommand(options));
  addHelpExamples(show, {
    examples: [
      { command: 'baton config show', does: 'which files were read, and where each launcher, token... comes from' },
      { command: 'baton config show --json | jq .files', does: 'the settings files read, in order' },
      { command: 'baton config show --config-dir ~/lab-settings', does: 'the settings of that folder only' },
    ],
    docs: 'settings.md#baton-config-show',
  });

  const schema = config
    .command('schema')
    .description("write the JSON schema of the settings file for the plugins installed (the settings' `plugins:` and the built-in ones found), so that editors complete their keys")
    .option('--output <file>', 'write it to this file instead of the standard output')
    .option('--config-dir <dir>', 'read the settings file of this directory only')
    .action(async (options: ConfigSchemaCommandOptions) => (await import('./config.ts')).configSchemaCommand(options));
  addHelpExamples(schema, {
    examples: [
      { command: 'baton config schema --output baton.schema.json', does: 'then `# yaml-language-server: $schema=./baton.schema.json` in baton.config.yaml' },
      { command: 'baton config schema > baton.schema.json', does: 'the same, through the standard output' },
    ],
    docs: 'settings.md#editor-completion-the-json-schema',
  });
}
