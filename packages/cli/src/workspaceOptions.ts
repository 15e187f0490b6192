// --workspace / --workdir / --config-dir (workspaceFlags.ts): the workspace they name.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedSettings, Workspace } from '@baton/core';
import type { WorkspaceOptions } from './workspaceFlags.ts';

/** The CLI's package folder: plugins installed with the CLI (like @baton/launcher-local) resolve from here. */
export const CLI_PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * An existing workspace as a command that reads its jobs reaches it. One on this machine
 * is read from its files, with nothing opened; one on another host is reached only through
 * its connector, so it is opened at once (settings, plugins, the connection) and the
 * caller closes it.
 */
export interface LocatedWorkspace {
  /** Absolute path, as the workspace's host sees it. */
  path: string;
  /** The workspace, opened with its connector and launchers, when it lives on another host. */
  opened?: Workspace;
}

/** The existing workspace the options name; read-only commands never create one. */
export async function locateWorkspace(options: WorkspaceOptions): Promise<LocatedWorkspace> {
  if (options.workdir !== undefined) {
    const path = resolve(options.workdir);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) {
      const { UserInputError } = await import('@baton/core');
      throw new UserInputError(`No workspace directory at ${path}`, { where: '--workdir', hint: 'check the path given to --workdir' });
    }
    return { path };
  }
  // The whole core is loaded only when settings are read: `--workdir` needs none of it.
  const { loadSettings, resolveWorkspace } = await import('@baton/core');
  const loaded = await loadSettings({ configDir: options.configDir });
  const workspace = await resolveWorkspace({ settings: loaded.settings, workspaceId: options.workspace, settingsFile: loaded.filepath });
  if (workspace.connector === undefined) return { path: workspace.path };
  const opened = (await openWorkspaceWithLaunchers({ options, settings: loaded, required: true }))!;
  return { path: opened.path, opened };
}

/**
 * The workspace with its launchers. Commands that can do without them (local jobs
 * on this host) pass `required: false` and get undefined when it fails to open.
 */
export async function openWorkspaceWithLaunchers(args: { options: WorkspaceOptions; settings?: LoadedSettings; required: boolean }): Promise<Workspace | undefined> {
  const { configDir, workspace, workdir } = args.options;
  try {
    const { openWorkspace } = await import('@baton/core');
    return await openWorkspace({ configDir, workspace, workdir, settings: args.settings, resolvePluginsFrom: [CLI_PACKAGE_DIR] });
  } catch (error) {
    if (args.required) throw error;
    return undefined;
  }
}
