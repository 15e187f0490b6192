// Builds a workspace's launchers from its `launchers:` blocks: each block's `use`
// picks a factory among the loaded plugins, whose schema validates the rest.
import { BatonError, UserInputError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { BUILTIN_PLUGINS, launcherKinds } from '../plugin/loadPlugins.ts';
import { installCommand } from '../util/installHint.ts';
import type { Connector, Launcher, LauncherFactory, LoggerLike, Plugin } from '../types.ts';
import { blockOrigin, locatedValidationError, type LocatedIssue } from './locatedIssues.ts';
import type { LauncherBlock } from './settingsSchema.ts';
import { DEFAULT_LAUNCHER, type WorkspaceSettings } from './validateSettings.ts';
import { formatKeyPath, strictIfObject, zodIssuesToIssues } from './zodIssues.ts';
import { unknownKindMessage } from './unknownKind.ts';

export interface LauncherBlocksOptions {
  workspace: WorkspaceSettings;
  plugins: readonly Plugin[];
  /** The settings file, named in errors. */
  settingsFile?: string;
}

export interface ValidatedLauncher {
  name: string;
  kind: string;
  factory: LauncherFactory;
  settings: unknown;
}

export interface CreateWorkspaceLaunchersOptions extends LauncherBlocksOptions {
  connector: Connector;
  logger?: LoggerLike;
}

export interface WorkspaceLaunchers {
  /** In the order they are declared (or the default `local` one). */
  launchers: Launcher[];
  /** The workspace's `launcher:`. */
  defaultLauncher: Launcher;
}

/**
 * Checks every launcher block of a workspace against its plugin's schema, all
 * problems reported at once. Without declared launchers, a `local` one with its
 * default settings.
 */
export function validateLauncherBlocks(options: LauncherBlocksOptions): ValidatedLauncher[] {
  const { workspace, plugins, settingsFile } = options;
  const where = settingsFile ?? (workspace.keyPath ? 'settings' : `workspace ${workspace.path}`);
  const declared = Object.entries(workspace.launchers);
  const blocks: [string, LauncherBlock, readonly PropertyKey[], string | undefined][] =
    declared.length > 0
      ? declared.map(([name, block]) => {
          const origin = blockOrigin({ workspace, group: 'launchers', name });
          return [name, block, origin.keyPath, origin.file];
        })
      : [[DEFAULT_LAUNCHER, { use: DEFAULT_LAUNCHER }, [], undefined]];
  const factories = launcherFactories(plugins);
  const issues: LocatedIssue[] = [];
  const validated: ValidatedLauncher[] = [];
  for (const [name, block, keyPath, file] of blocks) {
    // `connector` names the host, checked with the workspace's (validateSettings); the rest is the kind's.
    const { use: kind, connector: _connector, ...rest } = block as LauncherBlock & { connector?: unknown };
    const factory = factories.get(kind);
    if (!factory) {
      if (declared.length === 0) throw missingLocalPlugin({ where });
      const known = [...factories.keys()];
      issues.push({
        file,
        path: formatKeyPath([...keyPath, 'use']),
        message: unknownKindMessage({ role: 'launcher', kind, known }),
      });
      continue;
    }
    const schema = strictIfObject(factory.settings);
    const parsed = schema.safeParse(rest, { reportInput: true });
    if (!parsed.success) {
      issues.push(...zodIssuesToIssues({ issues: parsed.error.issues, schema, prefix: keyPath }).map((issue) => ({ ...issue, file })));
      continue;
    }
    validated.push({ name, kind, factory, settings: parsed.data });
  }
  if (issues.length > 0) {
    throw locatedValidationError({ summary: 'Invalid launcher settings in', issues, defaultWhere: where, hint: 'Fix the keys listed above; each launcher kind documents its settings.' });
  }
  return validated;
}

/** Creates the workspace's launchers (see validateLauncherBlocks) with the given connector. */
export async function createWorkspaceLaunchers(options: CreateWorkspaceLaunchersOptions): Promise<WorkspaceLaunchers> {
  const { workspace, connector, logger = createLogger('baton:launcher') } = options;
  const launchers: Launcher[] = [];
  for (const { name, kind, factory, settings } of validateLauncherBlocks(options)) {
    try {
      launchers.push(await factory.create(settings, { name, workspacePath: workspace.path, connector, logger }));
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw new BatonError(`Launcher "${name}" (${kind}) could not be created: ${(error as Error).message}`, {
        where: launcherWhere({ workspace, name, settingsFile: options.settingsFile }),
        hint: 'Check its settings; run with DEBUG=baton:* for details.',
        cause: error,
      });
    }
  }
  const defaultLauncher = launchers.find((launcher) => launcher.name === workspace.launcher) ?? launchers[0];
  if (!defaultLauncher) throw new BatonError(`Workspace "${workspace.id}" has no launcher.`, { hint: 'Declare one under `launchers:`.' });
  return { launchers, defaultLauncher };
}

function launcherFactories(plugins: readonly Plugin[]): Map<string, LauncherFactory> {
  const factories = new Map<string, LauncherFactory>();
  for (const plugin of plugins) {
    for (const kind of launcherKinds([plugin])) factories.set(kind, plugin.launchers?.[kind] as LauncherFactory);
  }
  return factories;
}

function launcherWhere(options: { workspace: WorkspaceSettings; name: string; settingsFile: string | undefined }): string | undefined {
  const origin = blockOrigin({ workspace: options.workspace, group: 'launchers', name: options.name });
  const file = origin.file ?? options.settingsFile;
  return file ? `${file} (${formatKeyPath(origin.keyPath)})` : undefined;
}

function missingLocalPlugin(options: { where: string }): UserInputError {
  return new UserInputError('The default launcher "local" is not available: @baton/launcher-local is not installed.', {
    where: options.where,
    hint: `Install it with \`${installCommand({ packages: [BUILTIN_PLUGINS[DEFAULT_LAUNCHER] as string] })}\`, or declare a launcher under \`launchers:\` in the workspace.`,
  });
}
