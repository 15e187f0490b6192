// Opens the workspace a command works in: settings → plugins → launchers and
// tokens, all validated before anything runs.
import { createLogger } from '../logger.ts';
import { loadPlugins } from '../plugin/loadPlugins.ts';
import { loadSettings, type LoadedSettings } from '../settings/loadSettings.ts';
import { resolveWorkspace } from '../settings/resolveWorkspace.ts';
import { createWorkspaceConnector } from '../settings/workspaceConnector.ts';
import { createWorkspaceLaunchers } from '../settings/workspaceLaunchers.ts';
import { createWorkspaceTokens } from '../settings/workspaceTokens.ts';
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
  });
  const connector = await createWorkspaceConnector({
    workspace: chosen,
    connectors: settings.connectors,
    plugins,
    settingsFile: filepath,
    logger: createLogger('baton:connector'),
  });
  const tokens = createWorkspaceTokens({ workspace: chosen, connector });
  // A remote workspace's path as its host sees it ("~" there is the home folder there).
  const workspace = chosen.connector === undefined ? chosen : { ...chosen, path: connector.resolve(chosen.path) };
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
  return {
    id: workspace.id,
    path: workspace.path,
    env: workspace.env,
    connector,
    launchers: new Map(launchers.map((launcher) => [launcher.name, launcher])),
    defaultLauncher: defaultLauncher.name,
    tokens,
    settingsFile: filepath,
    async close() {
      await Promise.allSettled(launchers.map((launcher) => launcher.close?.()));
      await connector.close?.();
    },
  };
}
