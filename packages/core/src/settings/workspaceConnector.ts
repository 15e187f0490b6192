// The connector a workspace lives behind: this machine's (LocalConnector), or the
// `connectors:` entry it names, whose `use` picks a factory among the loaded
// plugins and whose other keys that factory's schema validates.
import { LocalConnector } from '../connector/localConnector.ts';
import { BatonError, UserInputError, ValidationError } from '../errors.ts';
import type { Connector, ConnectorFactory, LoggerLike, Plugin } from '../types.ts';
import type { Settings, WorkspaceSettings } from './validateSettings.ts';
import { formatKeyPath, strictIfObject, zodIssuesToIssues } from './zodIssues.ts';
import { unknownKindMessage } from './unknownKind.ts';

export interface CreateWorkspaceConnectorOptions {
  workspace: WorkspaceSettings;
  connectors: Settings['connectors'];
  plugins: readonly Plugin[];
  /** The settings file, named in errors. */
  settingsFile?: string;
  logger: LoggerLike;
}

export async function createWorkspaceConnector(options: CreateWorkspaceConnectorOptions): Promise<Connector> {
  const { workspace, connectors, plugins, settingsFile, logger } = options;
  const name = workspace.connector;
  if (name === undefined) return new LocalConnector();
  // The file that declares the connector (with layered settings, maybe the user's).
  const where = workspace.origins?.connector?.file ?? settingsFile ?? 'settings';
  const block = connectors[name];
  // validateSettings checked the name; a workspace built by hand may not have been.
  if (!block) throw new UserInputError(`Workspace "${workspace.id}" names connector "${name}", which is not declared`, { where, hint: 'declare it under `connectors:`' });
  const { use: kind, ...rest } = block;
  const keyPath = ['connectors', name];
  const factories = connectorFactories(plugins);
  const factory = factories.get(kind);
  if (!factory) {
    const known = [...factories.keys()];
    throw new ValidationError(
      `Invalid connector settings in ${where}:`,
      [{ path: formatKeyPath([...keyPath, 'use']), message: unknownKindMessage({ role: 'connector', kind, known }) }],
      { where, hint: 'Each connector kind comes from a plugin listed under `plugins:`.' },
    );
  }
  const schema = strictIfObject(factory.settings);
  const parsed = schema.safeParse(rest, { reportInput: true });
  if (!parsed.success) {
    throw new ValidationError(`Invalid connector settings in ${where}:`, zodIssuesToIssues({ issues: parsed.error.issues, schema, prefix: keyPath }), {
      where,
      hint: 'Fix the keys listed above; each connector kind documents its settings.',
    });
  }
  try {
    return await factory.create(parsed.data, { logger });
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw new BatonError(`Connector "${name}" (${kind}) could not be created: ${(error as Error).message}`, {
      where: `${where} (${formatKeyPath(keyPath)})`,
      hint: 'Check its settings; run with DEBUG=baton:* for details.',
      cause: error,
    });
  }
}

/** Connector kinds the plugins provide, e.g. `ssh`. */
export function connectorFactories(plugins: readonly Plugin[]): Map<string, ConnectorFactory> {
  const factories = new Map<string, ConnectorFactory>();
  for (const plugin of plugins) for (const [kind, factory] of Object.entries(plugin.connectors ?? {})) factories.set(kind, factory as ConnectorFactory);
  return factories;
}
