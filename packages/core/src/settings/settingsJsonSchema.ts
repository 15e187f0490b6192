// The JSON schema of the settings file, for editors (packages/core/settings.schema.json,
// published as @baton/core/settings.schema.json, written by
// scripts/generate-settings-schema.mjs). Launcher, connector and service blocks list the
// kinds passed in (the script passes the built-in plugins'; core imports no plugin), and
// service blocks core's own `process` kind.
import { z } from 'zod';
import { PROCESS_SERVICE_KIND, processServiceSettings } from '../service/processService.ts';
import type { Plugin } from '../types.ts';
import { settingsSchema } from './settingsSchema.ts';

/** `$id` of the schema that @baton/core ships: a stable name, not an address to download it from. */
export const SETTINGS_SCHEMA_ID = 'https://baton.dev/schemas/settings.schema.json';

export interface SettingsJsonSchemaOptions {
  /** Launcher kind → schema of its settings block (without `use`). */
  launcherKinds?: Record<string, z.ZodType>;
  /** Connector kind → schema of its settings block (without `use`). */
  connectorKinds?: Record<string, z.ZodType>;
  /** Service kind → schema of its settings block (without `use`); `process` is always there. */
  serviceKinds?: Record<string, z.ZodType>;
  /** `$id` of the schema; a plugin that ships a schema with its own launcher kinds gives its own. */
  id?: string;
}

type JsonSchema = Record<string, unknown>;

/** The kinds the plugins provide, with the schema of each one's settings: what settingsJsonSchema takes. */
export function pluginKindSettings(plugins: readonly Plugin[]): Required<Pick<SettingsJsonSchemaOptions, 'launcherKinds' | 'connectorKinds' | 'serviceKinds'>> {
  const kinds = { launcherKinds: {}, connectorKinds: {}, serviceKinds: {} } as Record<'launcherKinds' | 'connectorKinds' | 'serviceKinds', Record<string, z.ZodType>>;
  for (const plugin of plugins) {
    for (const [kind, factory] of Object.entries(plugin.launchers ?? {})) kinds.launcherKinds[kind] = factory.settings as z.ZodType;
    for (const [kind, factory] of Object.entries(plugin.connectors ?? {})) kinds.connectorKinds[kind] = factory.settings as z.ZodType;
    for (const [kind, factory] of Object.entries(plugin.services ?? {})) kinds.serviceKinds[kind] = factory.settings as z.ZodType;
  }
  return kinds;
}

export function settingsJsonSchema(options: SettingsJsonSchemaOptions = {}): JsonSchema {
  const schema = z.toJSONSchema(settingsSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const defs = (schema.$defs ?? {}) as Record<string, JsonSchema>;
  // `.meta({ id })` names the definitions; the id itself is no JSON schema keyword.
  for (const definition of Object.values(defs)) delete definition.id;
  const connectorName = { type: 'string', minLength: 1, description: 'Name of a `connectors:` entry: the host this launcher runs jobs on, the workspace\'s' };
  blockKinds({ defs, name: 'LauncherBlock', label: 'Launcher', kinds: options.launcherKinds ?? {}, extra: { connector: connectorName } });
  blockKinds({ defs, name: 'ConnectorBlock', label: 'Connector', kinds: options.connectorKinds ?? {}, extra: {} });
  blockKinds({ defs, name: 'ServiceBlock', label: 'Service', kinds: { ...options.serviceKinds, [PROCESS_SERVICE_KIND]: processServiceSettings }, extra: {} });
  const { $schema, ...rest } = schema;
  return { $schema, $id: options.id ?? SETTINGS_SCHEMA_ID, title: 'Baton settings', ...rest };
}

/** A block definition (`LauncherBlock`, `ConnectorBlock`, `ServiceBlock`) as one schema per known kind, or any other kind's `use`. */
function blockKinds(options: { defs: Record<string, JsonSchema>; name: string; label: string; kinds: Record<string, z.ZodType>; extra: Record<string, JsonSchema> }): void {
  const { defs, name, label, kinds, extra } = options;
  const generic = defs[name];
  const names = Object.keys(kinds).sort();
  if (!generic || names.length === 0) return;
  defs[name] = {
    description: generic.description,
    anyOf: [
      ...names.map((kind) => kindSchema({ label, kind, settings: kinds[kind] as z.ZodType, extra })),
      // A kind from a plugin that is not built in: only `use` is known.
      { ...generic, description: `A ${label.toLowerCase()} of a kind provided by another plugin`, properties: { ...(generic.properties as object), use: { type: 'string', not: { enum: names } } } },
    ],
  };
}

function kindSchema(options: { label: string; kind: string; settings: z.ZodType; extra: Record<string, JsonSchema> }): JsonSchema {
  const { label, kind, settings, extra } = options;
  const { $schema: _schema, ...block } = z.toJSONSchema(settings, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return {
    ...block,
    type: 'object',
    properties: { use: { const: kind, description: `${label} kind "${kind}"` }, ...extra, ...((block.properties as object | undefined) ?? {}) },
    required: ['use', ...((block.required as string[] | undefined) ?? [])],
    additionalProperties: false,
  };
}
