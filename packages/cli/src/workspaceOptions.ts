// --workspace / --workdir / --config-dir (workspaceFlags.ts): the workspace they name.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Workspace } from '@baton/core';
import type { WorkspaceOptions } from './workspaceFlags.ts';

/** The CLI's package folder: plugins installed with the CLI (like @baton/launcher-local) resolve from here. */
export const CLI_PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The absolute path of an existing workspace; read-only commands never create one. */
export async function workspacePath(options: WorkspaceOptions): Promise<string> {
  if (options.workdir !== undefined) {
    const path = resolve(options.workdir);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) {
      const { UserInputError } = await import('@baton/core');
      throw new UserInputError(`No workspace directory at ${path}`, { where: '--workdir', hint: 'check the path given to --workdir' });
    }
    return path;
  }
  // The whole core is loaded only when settings are read: `--workdir` needs none of it.
  const { loadSettings, resolveWorkspace } = await import('@baton/core');
  const { settings, filepath } = await loadSettings({ configDir: options.configDir });
  const workspace = await resolveWorkspace({ settings, workspaceId: options.workspace, settingsFile: filepath });
  return workspace.path;
}

/**
 * The workspace with its launchers. Commands that can do without them (local jobs
 * on this host) pass `required: false` and get undefined when it fails to open.
 */
export async function openWorkspaceWithLaunchers(args: { options: WorkspaceOptions; required: boolean }): Promise<Workspace | undefined> {
  const { configDir, workspace, workdir } = args.options;
  try {
    const { openWorkspace } = await import('@baton/core');
    return await openWorkspace({ configDir, workspace, workdir, resolvePluginsFrom: [CLI_PACKAGE_DIR] });
  } catch (error) {
    if (args.required) throw error;
    return undefined;
  }
}
