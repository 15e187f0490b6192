// What `baton config show` prints: the settings files read, in order, and what the merged
// settings hold (workspaces, launchers, services, tokens, connectors, plugins), each entry
// with the file and key path it came from. One JSON shape (--json) and its text form.
import type { LoadedSettings, SettingsOrigin } from '@baton/core';
import { formatTable } from '../output/table.ts';

/** Where an entry came from; null for what Baton supplies when no file says (the default workspace, its `local` launcher). */
export type ConfigSource = { file: string; keyPath: string } | null;

export interface ConfigEntry {
  name: string;
  from: ConfigSource;
}

export interface ConfigView {
  /** In the order they were read and merged: a later file wins. */
  files: { path: string; role: 'user' | 'project' | 'config-dir' }[];
  plugins: ConfigEntry[];
  connectors: (ConfigEntry & { kind: string })[];
  env: (ConfigEntry & { value: string })[];
  workspaces: {
    id: string;
    path: string;
    connector?: string;
    /** The default launcher. */
    launcher: string;
    /** Every file whose `workspaces:` has an entry with this id. */
    from: ConfigSource[];
    launchers: (ConfigEntry & { kind: string })[];
    services: (ConfigEntry & { kind: string })[];
    tokens: (ConfigEntry & { total: number })[];
  }[];
}

export function describeSettings(options: { loaded: LoadedSettings; userConfigDir: string; configDir?: string }): ConfigView {
  const { loaded, userConfigDir, configDir } = options;
  const { settings } = loaded;
  const source = (origin: SettingsOrigin | undefined): ConfigSource => (origin?.file === undefined ? null : { file: origin.file, keyPath: origin.keyPath });
  const origins = settings.origins;
  return {
    files: loaded.filepaths.map((path) => ({
      path,
      role: configDir !== undefined ? 'config-dir' : path.startsWith(`${userConfigDir}/`) ? 'user' : 'project',
    })),
    plugins: settings.plugins.map((name) => ({ name, from: source(origins?.plugins[name]) })),
    connectors: Object.entries(settings.connectors).map(([name, block]) => ({ name, kind: block.use, from: source(origins?.connectors[name]) })),
    env: Object.entries(settings.env).map(([name, value]) => ({ name, value, from: source(origins?.env[name]) })),
    workspaces: settings.workspaces.map((workspace) => {
      const declared = Object.entries(workspace.launchers);
      return {
        id: workspace.id,
        path: workspace.path,
        ...(workspace.connector === undefined ? {} : { connector: workspace.connector }),
        launcher: workspace.launcher,
        from: (workspace.origins?.declared ?? []).map(source).filter((from) => from !== null),
        // Without declared launchers, the workspace runs jobs with a `local` one.
        launchers:
          declared.length === 0
            ? [{ name: workspace.launcher, kind: 'local', from: null }]
            : declared.map(([name, block]) => ({ name, kind: block.use, from: source(workspace.origins?.launchers[name]) })),
        services: Object.entries(workspace.services).map(([name, block]) => ({ name, kind: block.use, from: source(workspace.origins?.services[name]) })),
        tokens: Object.entries(workspace.tokens).map(([name, total]) => ({ name, total, from: source(workspace.origins?.tokens[name]) })),
      };
    }),
  };
}

export function formatConfigView(view: ConfigView): string {
  const where = (from: ConfigSource): string => (from === null ? '(default)' : `${from.file} (${from.keyPath})`);
  const lines: string[] = [];
  lines.push(view.files.length === 0 ? 'Settings files: none found; the defaults apply.' : 'Settings files (in the order read; a later file wins):');
  view.files.forEach((file, index) => lines.push(`  ${index + 1}. ${file.path}  [${file.role}]`));
  const section = (title: string, header: string[], rows: string[][]) => {
    lines.push('', `${title}:`);
    if (rows.length === 0) lines.push('  none');
    else lines.push(indent(formatTable({ header, rows })));
  };
  section('Plugins (besides local, always loaded)', ['NAME', 'FROM'], view.plugins.map((plugin) => [plugin.name, where(plugin.from)]));
  section('Connectors', ['NAME', 'KIND', 'FROM'], view.connectors.map((connector) => [connector.name, connector.kind, where(connector.from)]));
  section('Environment', ['NAME', 'VALUE', 'FROM'], view.env.map((variable) => [variable.name, variable.value, where(variable.from)]));
  for (const workspace of view.workspaces) {
    lines.push('', `Workspace ${workspace.id}: ${workspace.path}${workspace.connector === undefined ? '' : ` (on ${workspace.connector})`}`);
    lines.push(`  from: ${workspace.from.length === 0 ? '(default)' : workspace.from.map(where).join(', ')}`);
    lines.push(`  default launcher: ${workspace.launcher}`);
    const rows = [
      ...workspace.launchers.map((launcher) => ['launcher', launcher.name, launcher.kind, where(launcher.from)]),
      ...workspace.services.map((service) => ['service', service.name, service.kind, where(service.from)]),
      ...workspace.tokens.map((token) => ['token', token.name, String(token.total), where(token.from)]),
    ];
    lines.push(indent(formatTable({ header: ['ENTRY', 'NAME', 'KIND/TOTAL', 'FROM'], rows })));
  }
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
