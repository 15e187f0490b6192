// Picks the workspace a command works in: --workdir, then --workspace, then the
// first workspace whose triggers match the experiment id, then the first one.
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { UserInputError, didYouMean } from '../errors.ts';
import { matchesTrigger } from './triggers.ts';
import { DEFAULT_LAUNCHER, type Settings, type WorkspaceSettings } from './validateSettings.ts';

export interface ResolveWorkspaceOptions {
  settings: Settings;
  /** --workspace ID */
  workspaceId?: string;
  /** --workdir DIR: an ad-hoc workspace (relative to `cwd`). */
  workdir?: string;
  experimentId?: string;
  /** The settings file, named in errors. */
  settingsFile?: string;
  cwd?: string;
}

/** The chosen workspace, its folder (on this machine) created if missing and checked readable and writable. */
export async function resolveWorkspace(options: ResolveWorkspaceOptions): Promise<WorkspaceSettings> {
  const workspace = chooseWorkspace(options);
  // A remote workspace's folder is made on its host, through its connector (openWorkspace).
  if (workspace.connector === undefined) await ensureUsableFolder({ workspace });
  return workspace;
}

function chooseWorkspace(options: ResolveWorkspaceOptions): WorkspaceSettings {
  const { settings, workspaceId, workdir, experimentId, settingsFile } = options;
  const { workspaces } = settings;
  if (workdir !== undefined) {
    const path = resolve(options.cwd ?? process.cwd(), workdir);
    // A declared workspace at that folder keeps its launchers and tokens.
    return (
      workspaces.find((workspace) => workspace.path === path) ?? {
        id: basename(path) || 'workdir',
        path,
        env: { ...settings.env },
        triggers: [],
        launcher: DEFAULT_LAUNCHER,
        launchers: {},
        tokens: {},
        services: {},
        keyPath: '',
      }
    );
  }
  if (workspaceId !== undefined) {
    const found = workspaces.find((workspace) => workspace.id === workspaceId);
    if (found) return found;
    const ids = workspaces.map((workspace) => workspace.id);
    throw new UserInputError(`No workspace "${workspaceId}"${didYouMean(workspaceId, ids)}.`, {
      where: settingsFile ? `--workspace (workspaces in ${settingsFile}: ${ids.join(', ')})` : `--workspace (known: ${ids.join(', ')})`,
      hint: settingsFile ? `Use one of ${ids.join(', ')}, or add it under \`workspaces:\` in ${settingsFile}.` : 'Create a settings file (baton.config.yaml) that declares it, or use --workdir DIR.',
    });
  }
  if (experimentId !== undefined) {
    const triggered = workspaces.find((workspace) => matchesTrigger({ triggers: workspace.triggers, experimentId }));
    if (triggered) return triggered;
  }
  return workspaces[0] as WorkspaceSettings;
}

async function ensureUsableFolder(options: { workspace: WorkspaceSettings }): Promise<void> {
  const { path, id } = options.workspace;
  const hint = `Create ${path} and make it readable and writable, or point the workspace elsewhere (\`path:\` in the settings file, --workspace or --workdir).`;
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw new UserInputError(`Cannot create the folder of workspace "${id}": ${(error as Error).message}`, { where: path, hint, cause: error });
  }
  if (!(await stat(path)).isDirectory()) {
    throw new UserInputError(`The path of workspace "${id}" is not a folder.`, { where: path, hint });
  }
  try {
    await access(path, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new UserInputError(`The folder of workspace "${id}" is not readable and writable.`, { where: path, hint, cause: error });
  }
}
