// Checks what a settings file holds and turns it into Settings: every problem is
// collected into one ValidationError; paths are absolute and defaults filled in.
import { ValidationError, didYouMean, type Issue } from '../errors.ts';
import { expandPath } from './expandPath.ts';
import { settingsSchema, type ConnectorBlock, type LauncherBlock, type ParsedSettings, type ServiceBlock } from './settingsSchema.ts';
import { compileTrigger } from './triggers.ts';
import { formatKeyPath, zodIssuesToIssues } from './zodIssues.ts';

/** The launcher every workspace has when it declares none. */
export const DEFAULT_LAUNCHER = 'local';
export const DEFAULT_WORKSPACE_ID = 'default';

export interface WorkspaceSettings {
  id: string;
  /** Absolute path; with a connector, the path as written, resolved on that host when it is reached. */
  path: string;
  /** Name of the connector the workspace lives behind (its `connector:`, or the one its launchers name); none for this machine. */
  connector?: string;
  /** With a connector: the Node that runs function tasks on that host. */
  node?: string;
  /** The settings' `env` with the workspace's on top. */
  env: Record<string, string>;
  triggers: string[];
  /** Name of the default launcher; one of `launchers`, or `local` when none is declared. */
  launcher: string;
  launchers: Record<string, LauncherBlock>;
  /** Counter tokens: name → total. */
  tokens: Record<string, number>;
  /** Services experiments can start by name (checked against their kind when the workspace opens). */
  services: Record<string, ServiceBlock>;
  /** Where it is declared in the settings file (`workspaces[0]`); '' when built in or ad hoc. */
  keyPath: string;
}

export interface Settings {
  plugins: string[];
  env: Record<string, string>;
  /** Hosts to reach, by name. */
  connectors: Record<string, ConnectorBlock>;
  /** Never empty: without declared workspaces, the default one. */
  workspaces: WorkspaceSettings[];
  /** Folder relative paths resolve from: the settings file's folder, or the working directory. */
  baseDir: string;
}

export interface ValidateSettingsOptions {
  /** What the settings file holds (undefined for an empty file). */
  raw: unknown;
  /** The settings file, named in errors. */
  filepath?: string;
  baseDir: string;
  env?: NodeJS.ProcessEnv;
}

export function validateSettings(options: ValidateSettingsOptions): Settings {
  const { raw, filepath, baseDir, env = process.env } = options;
  const where = filepath ?? 'settings';
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ValidationError(`Invalid settings in ${where}:`, [{ path: '', message: 'the settings must be a map of keys (plugins, env, workspaces)' }], {
      where,
      hint: 'See @baton/core/settings.schema.json for the expected shape.',
    });
  }
  const parsed = settingsSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) {
    throw invalid(where, zodIssuesToIssues({ issues: parsed.error.issues, schema: settingsSchema }));
  }
  const issues: Issue[] = [];
  const settings = toSettings({ parsed: parsed.data, baseDir, env, issues });
  if (issues.length > 0) throw invalid(where, issues);
  return settings;
}

/** Settings when there is no settings file: one workspace at $BATON_WORKSPACE or ~/baton-workspace. */
export function defaultSettings(options: { cwd: string; env?: NodeJS.ProcessEnv }): Settings {
  return validateSettings({ raw: {}, baseDir: options.cwd, env: options.env });
}

/** The workspace used without a settings file: `$BATON_WORKSPACE`, else `~/baton-workspace`. */
export function defaultWorkspace(options: { cwd: string; env?: NodeJS.ProcessEnv; globalEnv?: Record<string, string> }): WorkspaceSettings {
  const { cwd, env = process.env, globalEnv = {} } = options;
  return {
    id: DEFAULT_WORKSPACE_ID,
    path: expandPath({ path: env.BATON_WORKSPACE || '~/baton-workspace', baseDir: cwd, env }),
    env: { ...globalEnv },
    triggers: [],
    launcher: DEFAULT_LAUNCHER,
    launchers: {},
    tokens: {},
    services: {},
    keyPath: '',
  };
}

function toSettings(options: { parsed: ParsedSettings; baseDir: string; env: NodeJS.ProcessEnv; issues: Issue[] }): Settings {
  const { parsed, baseDir, env, issues } = options;
  const globalEnv = parsed.env ?? {};
  const seenIds = new Map<string, number>();
  const workspaces = (parsed.workspaces ?? []).map((workspace, index): WorkspaceSettings => {
    const keyPath = formatKeyPath(['workspaces', index]);
    const previous = seenIds.get(workspace.id);
    if (previous !== undefined) issues.push({ path: `${keyPath}.id`, message: `"${workspace.id}" is already the id of workspaces[${previous}]; ids must be unique` });
    seenIds.set(workspace.id, index);

    const connector = workspaceConnector({ workspace, keyPath, connectors: parsed.connectors ?? {}, issues });
    if (workspace.node !== undefined && connector === undefined) {
      issues.push({ path: `${keyPath}.node`, message: 'only for a workspace on another host (with `connector:`): here, function tasks run with the Node that runs Baton' });
    }
    let path = workspace.path;
    try {
      // A remote workspace's path is the host's: its connector resolves it there.
      if (connector === undefined) path = expandPath({ path: workspace.path, baseDir, env });
    } catch (error) {
      issues.push({ path: `${keyPath}.path`, message: `cannot resolve "${workspace.path}": ${(error as Error).message}` });
    }
    const triggers = workspace.triggers ?? [];
    triggers.forEach((trigger, triggerIndex) => {
      try {
        compileTrigger(trigger);
      } catch (error) {
        issues.push({ path: `${keyPath}.triggers[${triggerIndex}]`, message: `invalid regular expression: ${(error as Error).message}` });
      }
    });
    const launchers = workspace.launchers ?? {};
    const names = Object.keys(launchers);
    const launcher = workspace.launcher ?? (names.length === 0 || names.includes(DEFAULT_LAUNCHER) ? DEFAULT_LAUNCHER : (names[0] as string));
    const available = names.length === 0 ? [DEFAULT_LAUNCHER] : names;
    if (!available.includes(launcher)) {
      issues.push({
        path: `${keyPath}.launcher`,
        message: `no launcher named "${launcher}" in this workspace${didYouMean(launcher, available)}; declared: ${available.join(', ')}`,
      });
    }
    return {
      id: workspace.id,
      path,
      ...(connector === undefined ? {} : { connector }),
      ...(workspace.node === undefined ? {} : { node: workspace.node }),
      env: { ...globalEnv, ...workspace.env },
      triggers,
      launcher,
      launchers,
      tokens: workspace.tokens ?? {},
      services: workspace.services ?? {},
      keyPath,
    };
  });
  if (workspaces.length === 0) workspaces.push(defaultWorkspace({ cwd: baseDir, env, globalEnv }));
  return { plugins: parsed.plugins ?? [], env: globalEnv, connectors: parsed.connectors ?? {}, workspaces, baseDir };
}

/**
 * The host a workspace lives on: its `connector:`, or the one its launcher blocks name.
 * A workspace lives on one host; its launchers run jobs where its files are.
 */
function workspaceConnector(options: {
  workspace: NonNullable<ParsedSettings['workspaces']>[number];
  keyPath: string;
  connectors: Record<string, ConnectorBlock>;
  issues: Issue[];
}): string | undefined {
  const { workspace, keyPath, connectors, issues } = options;
  const declared = Object.keys(connectors);
  const check = (name: string, path: string): boolean => {
    if (declared.includes(name)) return true;
    issues.push({ path, message: `no connector named "${name}"${didYouMean(name, declared)}; declared under \`connectors:\`: ${declared.join(', ') || 'none'}` });
    return false;
  };
  let chosen = workspace.connector;
  // An unknown name is reported once; launchers are not compared with it.
  const comparable = chosen === undefined || check(chosen, `${keyPath}.connector`);
  for (const [name, block] of Object.entries(workspace.launchers ?? {})) {
    const named = (block as { connector?: unknown }).connector;
    if (named === undefined) continue;
    const path = `${keyPath}.launchers.${name}.connector`;
    if (typeof named !== 'string' || named === '') {
      issues.push({ path, message: 'must be the name of a `connectors:` entry' });
      continue;
    }
    if (!check(named, path)) continue;
    chosen ??= named;
    if (comparable && named !== chosen) {
      issues.push({
        path,
        message: `launcher "${name}" reaches "${named}" but the workspace lives on "${chosen}": a workspace's launchers run jobs on the host its files are on; declare a workspace per host`,
      });
    }
  }
  return chosen;
}

function invalid(where: string, issues: Issue[]): ValidationError {
  return new ValidationError(`Invalid settings in ${where}:`, issues, {
    where,
    hint: 'Fix the keys listed above; @baton/core/settings.schema.json describes every key.',
  });
}
