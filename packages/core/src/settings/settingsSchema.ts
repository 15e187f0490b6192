// Schema of the settings file (baton.config.yaml and friends). Launcher, connector and
// service blocks are only checked for `use` here; the kind's factory validates the rest.
import { z } from 'zod';

/** Names that end up as folder names on disk (workspace ids, token names). */
export const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

// YAML reads `KEY: 1` as a number; environment values are strings in the end.
const envValueSchema = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number or a boolean' })
  .transform(String);

const envSchema = z.record(z.string(), envValueSchema).describe('Environment variables set for every job');

export const launcherBlockSchema = z
  .looseObject({
    use: z.string().min(1).describe('Launcher kind, provided by a plugin: local, slurm, oar, ssh...'),
  })
  .describe('A launcher: `use` names its kind; the other keys are that kind\'s settings')
  .meta({ id: 'LauncherBlock' });

export const connectorBlockSchema = z
  .looseObject({
    use: z.string().min(1).describe('Connector kind, provided by a plugin: ssh...'),
  })
  .describe('A way to reach a host: `use` names its kind; the other keys are that kind\'s settings (for ssh: host, user, port...)')
  .meta({ id: 'ConnectorBlock' });

export const serviceBlockSchema = z
  .looseObject({
    use: z.string().min(1).describe('Service kind: process (built in), or one a plugin provides: tensorboard...'),
  })
  .describe('A service experiments of this workspace can start by name: `use` names its kind; the other keys are that kind\'s settings')
  .meta({ id: 'ServiceBlock' });

export const workspaceSchema = z
  .strictObject({
    id: z.string().regex(SAFE_NAME, 'must be letters, digits, "_", "-" or "." (it names a folder)').describe('Name used with --workspace'),
    path: z
      .string()
      .min(1)
      .optional()
      .describe('Folder of the workspace; "~" and paths relative to the settings file are resolved; $VARS are expanded. With a `connector`, a path on that host ("~" and relative paths from the home folder there). Required, unless the other settings file (user or project) gives it for the workspace of this id'),
    connector: z
      .string()
      .min(1)
      .optional()
      .describe('Name of a `connectors:` entry: the workspace lives on that host, and its launchers run jobs there (default: this machine)'),
    node: z
      .string()
      .min(1)
      .optional()
      .describe('With a `connector`: the Node.js that runs function tasks on that host, a command or a path (default: `node` on its PATH)'),
    env: envSchema.optional(),
    triggers: z
      .array(z.string().min(1))
      .optional()
      .describe('Globs (`*`, `?`) or /regular expressions/ matched against the experiment id: the first workspace that matches is used when no --workspace is given'),
    launcher: z.string().min(1).optional().describe('Name of the default launcher of this workspace (default: "local", or the first declared launcher)'),
    launchers: z.record(z.string().min(1), launcherBlockSchema).optional().describe('Launchers by name'),
    tokens: z
      .record(z.string().regex(SAFE_NAME, 'must be letters, digits, "_", "-" or "." (it names a folder)'), z.int().positive())
      .optional()
      .describe('Counter tokens shared by every process using the workspace, with their totals, e.g. { gpu: 2 }'),
    services: z
      .record(z.string().regex(SAFE_NAME, 'must be letters, digits, "_", "-" or "." (it names the service in URLs)'), serviceBlockSchema)
      .optional()
      .describe('Services by name, e.g. { tb: { use: tensorboard, logdir: ~/runs } }; an experiment starts one with xp.useService(name) or `services: [name]` in its YAML configuration'),
  })
  .meta({ id: 'Workspace' });

export const settingsSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON schema of this file, for editors'),
    plugins: z
      .array(z.string().min(1))
      .optional()
      .describe('Plugins to load: a built-in short name (slurm, oar, ssh, tensorboard), an npm package, or a path relative to this file'),
    env: envSchema.optional(),
    connectors: z
      .record(z.string().regex(SAFE_NAME, 'must be letters, digits, "_", "-" or "."'), connectorBlockSchema)
      .optional()
      .describe('Hosts to reach, by name, e.g. { gpu1: { use: ssh, host: gpu1.lab } }; a workspace names one with `connector:`'),
    workspaces: z
      .array(workspaceSchema, {
        error: (issue) =>
          typeof issue.input === 'object' && issue.input !== null
            ? 'must be a list, not a map keyed by id: write `workspaces:` then `- id: main` and `path: ...` for each workspace'
            : undefined,
      })
      .optional(),
  })
  .describe('Baton settings');

/** What a settings file holds, as written (before paths are resolved and defaults applied). */
export type SettingsInput = z.input<typeof settingsSchema>;
export type ParsedSettings = z.output<typeof settingsSchema>;
export type LauncherBlock = z.output<typeof launcherBlockSchema>;
export type ConnectorBlock = z.output<typeof connectorBlockSchema>;
export type ServiceBlock = z.output<typeof serviceBlockSchema>;
