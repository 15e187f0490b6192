// Checks what a settings file holds and turns it into Settings: every problem is
// collected into one ValidationError; paths are absolute and defaults filled in.
import { ValidationError, didYouMean, type Issue } from '../errors.ts';
import { expandPath } from './expandPath.ts';
import { locatedValidationError, type LocatedIssue } from './locatedIssues.ts';
import { mergeLayers, type ParsedLayer, type ParsedWorkspace, type SettingsOrigin, type SettingsOrigins, type WorkspaceOrigins } from './settingsLayers.ts';
import { settingsSchema, type ConnectorBlock, type LauncherBlock, type ServiceBlock } from './settingsSchema.ts';
import { compileTrigger } from './triggers.ts';
import { zodIssuesToIssues } from './zodIssues.ts';

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
  /** With layered settings: the file (and key path) each part was written in. */
  origins?: WorkspaceOrigins;
}

export interface Settings {
  plugins: string[];
  env: Record<string, string>;
  /** Hosts to reach, by name. */
  connectors: Record<string, ConnectorBlock>;
  /** Never empty: without declared workspaces, the default one. */
  workspaces: WorkspaceSettings[];
  /** Folder relative paths resolve from: the (project's) settings file's folder, or the working directory. */
  baseDir: string;
  /** The settings files read, in the order they were merged (the user's, then the project's); empty without any. */
  files?: string[];
  /** Where each plugin, connector and variable was written (the workspaces carry their own). */
  origins?: Omit<SettingsOrigins, 'workspaces'>;
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
  const { raw, filepath, baseDir, env } = options;
  return validateLayeredSettings({ layers: [{ raw, ...(filepath === undefined ? {} : { filepath }), baseDir }], cwd: baseDir, env });
}

/** A settings file as read, before it is checked. */
export interface SettingsLayer {
  raw: unknown;
  filepath?: string;
  /** The file's folder: its relative paths resolve from it. */
  baseDir: string;
}

export interface ValidateLayeredSettingsOptions {
  /** The files in the order they are merged: the user's first, the project's last (it wins). */
  layers: readonly SettingsLayer[];
  /** Folder relative paths resolve from without any file (the default workspace's `$BATON_WORKSPACE`). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Checks each settings file on its own (its problems named with it), merges them
 * (settingsLayers.ts), and checks the result: problems are named with the file and key
 * path of the value that caused them.
 */
export function validateLayeredSettings(options: ValidateLayeredSettingsOptions): Settings {
  const { layers, cwd, env = process.env } = options;
  const parsedLayers: ParsedLayer[] = [];
  // Told with the problems of the merged settings, so that all are told at once.
  const layerProblems: LocatedIssue[] = [];
  for (const layer of layers) {
    const where = layer.filepath ?? 'settings';
    const { raw } = layer;
    if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
      throw new ValidationError(`Invalid settings in ${where}:`, [{ path: '', message: 'the settings must be a map of keys (plugins, env, workspaces)' }], {
        where,
        hint: 'See @baton/core/settings.schema.json for the expected shape.',
      });
    }
    const parsed = settingsSchema.safeParse(raw ?? {}, { reportInput: true });
    const problems = layerIssues({ raw, layers });
    if (!parsed.success) throw invalid(where, [...zodIssuesToIssues({ issues: parsed.error.issues, schema: settingsSchema }), ...problems]);
    layerProblems.push(...problems.map((problem) => ({ ...problem, file: layer.filepath })));
    parsedLayers.push({ parsed: parsed.data, ...(layer.filepath === undefined ? {} : { file: layer.filepath }), baseDir: layer.baseDir });
  }
  const merged = mergeLayers({ layers: parsedLayers, env });
  const issues: LocatedIssue[] = [];
  const baseDir = layers.at(-1)?.baseDir ?? cwd;
  const settings = toSettings({ merged, baseDir, env, issues });
  issues.push(...layerProblems);
  if (issues.length > 0) {
    throw locatedValidationError({ summary: 'Invalid settings in', issues, defaultWhere: 'settings', hint: 'Fix the keys listed above; @baton/core/settings.schema.json describes every key.' });
  }
  return { ...settings, files: layers.flatMap((layer) => (layer.filepath === undefined ? [] : [layer.filepath])) };
}

/** Settings when there is no settings file: one workspace at $BATON_WORKSPACE or ~/baton-workspace. */
export function defaultSettings(options: { cwd: string; env?: NodeJS.ProcessEnv }): Settings {
  return validateLayeredSettings({ layers: [], cwd: options.cwd, env: options.env });
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

function toSettings(options: { merged: ReturnType<typeof mergeLayers>; baseDir: string; env: NodeJS.ProcessEnv; issues: LocatedIssue[] }): Omit<Settings, 'files'> {
  const { merged, baseDir, env, issues } = options;
  const { parsed, origins } = merged;
  const globalEnv = parsed.env ?? {};
  const connectors = parsed.connectors ?? {};
  const workspaces = (parsed.workspaces ?? []).map((workspace, index): WorkspaceSettings => {
    const workspaceOrigins = origins.workspaces[index] as WorkspaceOrigins;
    const declared = workspaceOrigins.declared[0] as SettingsOrigin;
    // A problem with a field is told in the file (and entry) that wrote it.
    const report = (origin: SettingsOrigin | undefined, key: string, message: string) => {
      const at = origin ?? workspaceOrigins.declared.at(-1) ?? declared;
      issues.push({ file: at.file, path: `${at.keyPath}.${key}`, message });
    };
    const connector = workspaceConnector({ workspace, origins: workspaceOrigins, connectors, report });
    if (connector !== undefined && origins.connectors[connector]) workspaceOrigins.connector = origins.connectors[connector];
    if (workspace.node !== undefined && connector === undefined) {
      report(workspaceOrigins.fields.node, 'node', 'only for a workspace on another host (with `connector:`): here, function tasks run with the Node that runs Baton');
    }
    // Without a path in any file, each file's entry was reported (layerIssues).
    let path = workspace.path ?? '';
    if (workspace.path !== undefined && connector === undefined) {
      // A remote workspace's path is the host's: its connector resolves it there.
      try {
        path = expandPath({ path: workspace.path, baseDir: workspaceOrigins.fields.path?.baseDir ?? baseDir, env });
      } catch (error) {
        report(workspaceOrigins.fields.path, 'path', `cannot resolve "${workspace.path}": ${(error as Error).message}`);
      }
    }
    const triggers = workspace.triggers ?? [];
    triggers.forEach((trigger, triggerIndex) => {
      try {
        compileTrigger(trigger);
      } catch (error) {
        report(workspaceOrigins.fields.triggers, `triggers[${triggerIndex}]`, `invalid regular expression: ${(error as Error).message}`);
      }
    });
    const launchers = workspace.launchers ?? {};
    const names = Object.keys(launchers);
    const launcher = workspace.launcher ?? (names.length === 0 || names.includes(DEFAULT_LAUNCHER) ? DEFAULT_LAUNCHER : (names[0] as string));
    const available = names.length === 0 ? [DEFAULT_LAUNCHER] : names;
    if (!available.includes(launcher)) {
      report(workspaceOrigins.fields.launcher, 'launcher', `no launcher named "${launcher}" in this workspace${didYouMean(launcher, available)}; declared: ${available.join(', ')}`);
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
      keyPath: declared.keyPath,
      origins: workspaceOrigins,
    };
  });
  if (workspaces.length === 0) workspaces.push(defaultWorkspace({ cwd: baseDir, env, globalEnv }));
  const { plugins, connectors: connectorOrigins, env: envOrigins } = origins;
  return { plugins: parsed.plugins ?? [], env: globalEnv, connectors, workspaces, baseDir, origins: { plugins, connectors: connectorOrigins, env: envOrigins } };
}

/**
 * Problems of one file that need the others to be told: a workspace entry without `path`
 * is fine when another file gives the path of the workspace of that id.
 */
function layerIssues(options: { raw: unknown; layers: readonly SettingsLayer[] }): Issue[] {
  const entries = (raw: unknown): unknown[] => {
    const workspaces = (raw as { workspaces?: unknown } | null | undefined)?.workspaces;
    return Array.isArray(workspaces) ? workspaces : [];
  };
  const field = (entry: unknown, key: string): unknown => (typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)[key] : undefined);
  const withPath = new Set(options.layers.flatMap((layer) => entries(layer.raw).filter((entry) => field(entry, 'path') !== undefined).map((entry) => field(entry, 'id'))));
  const issues: Issue[] = [];
  const seen = new Map<unknown, number>();
  entries(options.raw).forEach((entry, index) => {
    const id = field(entry, 'id');
    if (typeof id !== 'string') return;
    const previous = seen.get(id);
    if (previous !== undefined) issues.push({ path: `workspaces[${index}].id`, message: `"${id}" is already the id of workspaces[${previous}]; ids must be unique` });
    seen.set(id, index);
    if (field(entry, 'path') === undefined && !withPath.has(id)) {
      issues.push({ path: `workspaces[${index}].path`, message: 'missing (expected string): the folder of the workspace, here or in the other settings file\'s workspace of this id' });
    }
  });
  return issues;
}

/**
 * The host a workspace lives on: its `connector:`, or the one its launcher blocks name.
 * A workspace lives on one host; its launchers run jobs where its files are.
 */
function workspaceConnector(options: {
  workspace: ParsedWorkspace;
  origins: WorkspaceOrigins;
  connectors: Record<string, ConnectorBlock>;
  report: (origin: SettingsOrigin | undefined, key: string, message: string) => void;
}): string | undefined {
  const { workspace, origins, connectors, report } = options;
  const declared = Object.keys(connectors);
  const check = (name: string, origin: SettingsOrigin | undefined, key: string): boolean => {
    if (declared.includes(name)) return true;
    report(origin, key, `no connector named "${name}"${didYouMean(name, declared)}; declared under \`connectors:\`: ${declared.join(', ') || 'none'}`);
    return false;
  };
  let chosen = workspace.connector;
  // An unknown name is reported once; launchers are not compared with it.
  const comparable = chosen === undefined || check(chosen, origins.fields.connector, 'connector');
  for (const [name, block] of Object.entries(workspace.launchers ?? {})) {
    const named = (block as { connector?: unknown }).connector;
    if (named === undefined) continue;
    // The launcher's own entry: `workspaces[i].launchers.<name>` in the file that wrote it.
    const origin = origins.launchers[name];
    const at = origin ? { ...origin, keyPath: origin.keyPath.slice(0, origin.keyPath.lastIndexOf('.launchers.')) } : undefined;
    const key = `launchers.${name}.connector`;
    if (typeof named !== 'string' || named === '') {
      report(at, key, 'must be the name of a `connectors:` entry');
      continue;
    }
    if (!check(named, at, key)) continue;
    chosen ??= named;
    if (comparable && named !== chosen) {
      report(
        at,
        key,
        `launcher "${name}" reaches "${named}" but the workspace lives on "${chosen}": a workspace's launchers run jobs on the host its files are on; declare a workspace per host`,
      );
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
