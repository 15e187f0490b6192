// Checks what a settings file holds and turns it into Settings: every problem is
// collected into one ValidationError; paths are absolute and defaults filled in.
import { ValidationError, didYouMean, type Issue } from '../errors.ts';
import { expandPath } from './expandPath.ts';
import { settingsSchema, type LauncherBlock, type ParsedSettings } from './settingsSchema.ts';
import { compileTrigger } from './triggers.ts';
import { formatKeyPath, zodIssuesToIssues } from './zodIssues.ts';

/** The launcher every workspace has when it declares none. */
export const DEFAULT_LAUNCHER = 'local';
export const DEFAULT_WORKSPACE_ID = 'default';

export interface WorkspaceSettings {
  id: string;
  /** Absolute path. */
  path: string;
  /** The settings' `env` with the workspace's on top. */
  env: Record<string, string>;
  triggers: string[];
  /** Name of the default launcher; one of `launchers`, or `local` when none is declared. */
  launcher: string;
  launchers: Record<string, LauncherBlock>;
  /** Counter tokens: name → total. */
  tokens: Record<string, number>;
  /** Where it is declared in the settings file (`workspaces[0]`); '' when built in or ad hoc. */
  keyPath: string;
}

export interface Settings {
  plugins: string[];
  env: Record<string, string>;
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

    let path = workspace.path;
    try {
      path = expandPath({ path: workspace.path, baseDir, env });
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
      env: { ...globalEnv, ...workspace.env },
      triggers,
      launcher,
      launchers,
      tokens: workspace.tokens ?? {},
      keyPath,
    };
  });
  if (workspaces.length === 0) workspaces.push(defaultWorkspace({ cwd: baseDir, env, globalEnv }));
  return { plugins: parsed.plugins ?? [], env: globalEnv, workspaces, baseDir };
}

function invalid(where: string, issues: Issue[]): ValidationError {
  return new ValidationError(`Invalid settings in ${where}:`, issues, {
    where,
    hint: 'Fix the keys listed above; @baton/core/settings.schema.json describes every key.',
  });
}
