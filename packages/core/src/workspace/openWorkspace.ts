// Opens the workspace a command works in: settings → plugins → launchers, tokens
// and services, all validated before anything runs.
import { LocalConnector } from '../connector/localConnector.ts';
import { UserInputError } from '../errors.ts';
import { RemoteFunctionTasks } from '../job/remoteFunctionTasks.ts';
import { createLogger } from '../logger.ts';
import { loadPlugins } from '../plugin/loadPlugins.ts';
import { loadSettings, type LoadedSettings } from '../settings/loadSettings.ts';
import { resolveWorkspace } from '../settings/resolveWorkspace.ts';
import { createWorkspaceConnector } from '../settings/workspaceConnector.ts';
import { createWorkspaceLaunchers } from '../settings/workspaceLaunchers.ts';
import { createWorkspaceServices } from '../settings/workspaceServices.ts';
import { createWorkspaceTokens } from '../settings/workspaceTokens.ts';
import type { Connector } from '../types.ts';
import type { Workspace } from './workspace.ts';

export interface OpenWorkspaceOptions {
  /** Workspace id from the settings (--workspace). */
  workspace?: string;
  /** Ad-hoc workspace directory (--workdir); wins over `workspace`. */
  workdir?: string;
  /** Look for the settings file only there (--config-dir). */
  configDir?: string;
  /** Settings already loaded; otherwise they are looked up from `cwd`. */
  settings?: LoadedSettings;
  /** Selects a workspace by its triggers. */
  experimentId?: string;
  cwd?: string;
  /** More folders to resolve plugin packages from (e.g. the CLI's). */
  resolvePluginsFrom?: readonly string[];
}

/** A remote workspace's folder, made on its host (resolveWorkspace makes a local one). */
async function makeRemoteFolder(options: { connector: Connector; workspace: string; path: string }): Promise<void> {
  const { connector, workspace, path } = options;
  try {
    await connector.mkdir(path);
  } catch (error) {
    await connector.close?.();
    throw new UserInputError(`Cannot create the folder of workspace "${workspace}" on ${connector.hostname}: ${(error as Error).message}`, {
      where: path,
      hint: 'point `path:` at a folder the remote user can write (a path on that host; "~/..." is its home there)',
      cause: error,
    });
  }
}

export async function openWorkspace(options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  const loaded = options.settings ?? (await loadSettings({ cwd: options.cwd, configDir: options.configDir }));
  const { settings, filepath } = loaded;
  const chosen = await resolveWorkspace({
    settings,
    workspaceId: options.workspace,
    workdir: options.workdir,
    experimentId: options.experimentId,
    settingsFile: filepath,
    cwd: options.cwd,
  });
  const plugins = await loadPlugins({
    names: settings.plugins,
    baseDir: settings.baseDir,
    settingsFile: filepath,
    resolveFrom: options.resolvePluginsFrom,
    origins: settings.origins?.plugins,
  });
  // Checked now, created when an experiment starts one.
  const services = createWorkspaceServices({ workspace: chosen, plugins, settingsFile: filepath, baseDir: settings.baseDir });
  const connector = await createWorkspaceConnector({
    workspace: chosen,
    connectors: settings.connectors,
    plugins,
    settingsFile: filepath,
    logger: createLogger('baton:connector'),
  });
  // A remote workspace's path as its host sees it ("~" there is the home folder there).
  const workspace = chosen.connector === undefined ? chosen : { ...chosen, path: connector.resolve(chosen.path) };
  if (chosen.connector !== undefined) await makeRemoteFolder({ connector, workspace: workspace.id, path: workspace.path });
  // A workspace on a local disk has its jobs' small files written synchronously (connector/localDisk.ts).
  if (connector instanceof LocalConnector) connector.noteWorkspace(workspace.path);
  const functionTasks = chosen.connector === undefined ? undefined : await RemoteFunctionTasks.probe(connector, chosen.node);
  let created: Awaited<ReturnType<typeof createWorkspaceLaunchers>>;
  try {
    created = await createWorkspaceLaunchers({
      workspace,
      plugins,
      settingsFile: filepath,
      connector,
      logger: createLogger('baton:launcher'),
    });
  } catch (error) {
    // An SSH connection left open would keep the process alive.
    await connector.close?.();
    throw error;
  }
  const { launchers, defaultLauncher } = created;
  const tokens = createWorkspaceTokens({ workspace, connector });
  return {
    id: workspace.id,
    path: workspace.path,
    env: workspace.env,
    connector,
    ...(functionTasks ? { functionTasks } : {}),
    launchers: new Map(launchers.map((launcher) => [launcher.name, launcher])),
    defaultLauncher: defaultLauncher.name,
    tokens,
    services,
    settingsFile: filepath,
    async close() {
      await Promise.allSettled(launchers.map((launcher) => launcher.close?.()));
      await connector.close?.();
    },
  };
}
