// The JSON schema of the settings file, for editors (packages/core/settings.schema.json,
// published as @baton/core/settings.schema.json, written by
// scripts/generate-settings-schema.mjs). Launcher blocks list the kinds passed in (the
// script passes the built-in plugins'; core imports no plugin).
import { z } from 'zod';
import { settingsSchema } from './settingsSchema.ts';

/** `$id` of the schema that @baton/core ships: a stable name, not an address to download it from. */
export const SETTINGS_SCHEMA_ID = 'https://baton.dev/schemas/settings.schema.json';

export interface SettingsJsonSchemaOptions {
  /** Launcher kind → schema of its settings block (without `use`). */
  launcherKinds?: Record<string, z.ZodType>;
  /** `$id` of the schema; a plugin that ships a schema with its own launcher kinds gives its own. */
  id?: string;
}

type JsonSchema = Record<string, unknown>;

export function settingsJsonSchema(options: SettingsJsonSchemaOptions = {}): JsonSchema {
  const schema = z.toJSONSchema(settingsSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const defs = (schema.$defs ?? {}) as Record<string, JsonSchema>;
  // `.meta({ id })` names the definitions; the id itself is no JSON schema keyword.
  for (const definition of Object.values(defs)) delete definition.id;
  const generic = defs.LauncherBlock;
  const kinds = Object.keys(options.launcherKinds ?? {}).sort();
  if (generic && kinds.length > 0) {
    defs.LauncherBlock = {
      description: generic.description,
      anyOf: [
        ...kinds.map((kind) => launcherKindSchema({ kind, settings: options.launcherKinds?.[kind] as z.ZodType })),
        // A kind from a plugin that is not built in: only `use` is known.
        { ...generic, description: 'A launcher of a kind provided by another plugin', properties: { ...(generic.properties as object), use: { type: 'string', not: { enum: kinds } } } },
      ],
    };
  }
  const { $schema, ...rest } = schema;
  return { $schema, $id: options.id ?? SETTINGS_SCHEMA_ID, title: 'Baton settings', ...rest };
}

function launcherKindSchema(options: { kind: string; settings: z.ZodType }): JsonSchema {
  const { kind, settings } = options;
  const { $schema: _schema, ...block } = z.toJSONSchema(settings, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return {
    ...block,
    type: 'object',
    properties: { use: { const: kind, description: `Launcher kind "${kind}"` }, ...((block.properties as object | undefined) ?? {}) },
    required: ['use', ...((block.required as string[] | undefined) ?? [])],
    additionalProperties: false,
  };
}
