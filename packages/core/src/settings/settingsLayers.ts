// Layered settings: the user's file (user config folder) and then the project's, each
// parsed on its own, merged into one, the later file winning key by key. Workspaces merge
// by id; their launchers, services and tokens, the connectors and the `env` variables by
// name; `plugins` lists are united. Every merged entry remembers the file and key path it
// came from (and that file's folder, which its relative paths resolve from), for errors
// and for `baton config show`.
import { resolve } from 'node:path';
import { isPluginPath } from '../plugin/resolvePlugin.ts';
import { expandPath } from './expandPath.ts';
import type { ParsedSettings } from './settingsSchema.ts';

/** Where a value of the settings was written. */
export interface SettingsOrigin {
  /** The settings file; undefined for settings given in code. */
  file?: string;
  /** Its key path in that file, e.g. `workspaces[1].launchers.gpu`. */
  keyPath: string;
  /** The file's folder: relative paths of the value resolve from it. */
  baseDir: string;
}

/** A settings file, parsed on its own. */
export interface ParsedLayer {
  parsed: ParsedSettings;
  file?: string;
  baseDir: string;
}

export type ParsedWorkspace = NonNullable<ParsedSettings['workspaces']>[number];

/** The keys of a workspace that the later file replaces as a whole. */
export const WORKSPACE_FIELDS = ['path', 'connector', 'node', 'triggers', 'launcher'] as const;
export type WorkspaceField = (typeof WORKSPACE_FIELDS)[number];

export interface WorkspaceOrigins {
  /** Each file's entry for this workspace (`workspaces[i]` there), in the order the files were read. */
  declared: SettingsOrigin[];
  /** The entry each field was taken from. */
  fields: Partial<Record<WorkspaceField, SettingsOrigin>>;
  env: Record<string, SettingsOrigin>;
  launchers: Record<string, SettingsOrigin>;
  services: Record<string, SettingsOrigin>;
  tokens: Record<string, SettingsOrigin>;
  /** The `connectors:` entry of the host the workspace lives on, when on another host. */
  connector?: SettingsOrigin;
}

export interface SettingsOrigins {
  plugins: Record<string, SettingsOrigin>;
  connectors: Record<string, SettingsOrigin>;
  env: Record<string, SettingsOrigin>;
  /** Parallel to the merged `workspaces`. */
  workspaces: WorkspaceOrigins[];
}

export interface MergedLayers {
  parsed: ParsedSettings;
  origins: SettingsOrigins;
}

/**
 * Merges the files in the order given (the project's last, so it wins). Plugins given as
 * paths are made absolute from the folder of the file that lists them.
 */
export function mergeLayers(options: { layers: readonly ParsedLayer[]; env: NodeJS.ProcessEnv }): MergedLayers {
  const { layers, env } = options;
  const plugins: string[] = [];
  const merged: { env: Record<string, string>; connectors: NonNullable<ParsedSettings['connectors']>; workspaces: ParsedWorkspace[] } = {
    env: {},
    connectors: {},
    workspaces: [],
  };
  const origins: SettingsOrigins = { plugins: {}, connectors: {}, env: {}, workspaces: [] };
  let schema: string | undefined;
  for (const { parsed, file, baseDir } of layers) {
    const at = (keyPath: string): SettingsOrigin => ({ ...(file === undefined ? {} : { file }), keyPath, baseDir });
    schema = parsed.$schema ?? schema;
    (parsed.plugins ?? []).forEach((name, index) => {
      const plugin = isPluginPath(name) ? absolutePluginPath({ name, baseDir, env }) : name;
      if (!plugins.includes(plugin)) plugins.push(plugin);
      origins.plugins[plugin] ??= at(`plugins[${index}]`);
    });
    for (const [name, value] of Object.entries(parsed.env ?? {})) {
      merged.env[name] = value;
      origins.env[name] = at(`env.${name}`);
    }
    for (const [name, block] of Object.entries(parsed.connectors ?? {})) {
      merged.connectors[name] = block;
      origins.connectors[name] = at(`connectors.${name}`);
    }
    (parsed.workspaces ?? []).forEach((workspace, index) => {
      const keyPath = `workspaces[${index}]`;
      const existing = merged.workspaces.findIndex((other) => other.id === workspace.id);
      if (existing === -1) {
        merged.workspaces.push({ id: workspace.id });
        origins.workspaces.push({ declared: [], fields: {}, env: {}, launchers: {}, services: {}, tokens: {} });
      }
      const position = existing === -1 ? merged.workspaces.length - 1 : existing;
      mergeWorkspace({ into: merged.workspaces[position] as ParsedWorkspace, origins: origins.workspaces[position] as WorkspaceOrigins, workspace, at: at(keyPath) });
    });
  }
  const parsed: ParsedSettings = {
    ...(schema === undefined ? {} : { $schema: schema }),
    ...(plugins.length > 0 ? { plugins } : {}),
    ...(Object.keys(merged.env).length > 0 ? { env: merged.env } : {}),
    ...(Object.keys(merged.connectors).length > 0 ? { connectors: merged.connectors } : {}),
    ...(merged.workspaces.length > 0 ? { workspaces: merged.workspaces } : {}),
  };
  return { parsed, origins };
}

function mergeWorkspace(options: { into: ParsedWorkspace; origins: WorkspaceOrigins; workspace: ParsedWorkspace; at: SettingsOrigin }): void {
  const { into, origins, workspace, at } = options;
  origins.declared.push(at);
  const target = into as Record<string, unknown>;
  for (const field of WORKSPACE_FIELDS) {
    if (workspace[field] === undefined) continue;
    target[field] = workspace[field];
    origins.fields[field] = at;
  }
  for (const key of ['env', 'launchers', 'services', 'tokens'] as const) {
    const entries = Object.entries(workspace[key] ?? {});
    if (entries.length === 0 && workspace[key] === undefined) continue;
    const map = ((target[key] as Record<string, unknown> | undefined) ?? {}) as Record<string, unknown>;
    for (const [name, value] of entries) {
      map[name] = value;
      origins[key][name] = { ...at, keyPath: `${at.keyPath}.${key}.${name}` };
    }
    target[key] = map;
  }
}

function absolutePluginPath(options: { name: string; baseDir: string; env: NodeJS.ProcessEnv }): string {
  const { name, baseDir, env } = options;
  try {
    return expandPath({ path: name, baseDir, env });
  } catch {
    // A $VARIABLE that is not set: loadPlugins reports the path as missing.
    return resolve(baseDir, name);
  }
}
