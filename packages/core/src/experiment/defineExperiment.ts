// The equivalent of the reference's ExperimentHelper decorator: a typed run
// function whose configuration (loaded from YAML) extends the base fields.
import { z } from 'zod';
import { UserInputError, didYouMean } from '../errors.ts';
import { experiment, type Experiment, type ExperimentOptions, type ExperimentSummary } from './experiment.ts';

/** Fields every experiment configuration has. */
export const baseConfigurationSchema = z.object({
  /** Experiment id: names the experiment in the workspace. */
  id: z.string().min(1),
  /** Module holding the run function, relative to the YAML file. */
  file: z.string().default('experiment'),
  title: z.string().default(''),
  subtitle: z.string().default(''),
  paper: z.string().default(''),
  description: z.string().default(''),
  /** YAML file merged before this one (already merged when the configuration is loaded). */
  parent: z.string().optional(),
  /** Services declared in the workspace's settings (`services:`) to start before the run function. */
  services: z.array(z.string().min(1)).default([]),
});

export type BaseConfiguration = z.output<typeof baseConfigurationSchema>;

export interface ExperimentHelper<C = BaseConfiguration> {
  /** The experiment object. */
  xp: Experiment;
  /** The validated configuration. */
  configuration: C;
}

type ConfigurationOf<S extends z.ZodObject<any> | undefined> = S extends z.ZodObject<any>
  ? BaseConfiguration & z.output<S>
  : BaseConfiguration;

export interface ExperimentDefinition<S extends z.ZodObject<any> | undefined = z.ZodObject<any> | undefined> {
  readonly __batonExperiment: true;
  /** Schema of the experiment's own configuration fields (merged with the base ones). */
  readonly configuration?: S;
  readonly run: (helper: ExperimentHelper<ConfigurationOf<S>>, configuration: ConfigurationOf<S>) => unknown;
}

export function defineExperiment<S extends z.ZodObject<any> | undefined = undefined>(definition: {
  configuration?: S;
  run: (helper: ExperimentHelper<ConfigurationOf<S>>, configuration: ConfigurationOf<S>) => unknown;
}): ExperimentDefinition<S> {
  return Object.freeze({ ...definition, __batonExperiment: true as const });
}

export function isExperimentDefinition(value: unknown): value is ExperimentDefinition {
  return typeof value === 'object' && value !== null && (value as { __batonExperiment?: unknown }).__batonExperiment === true;
}

/** The full schema of a definition's configuration: base fields plus its own, unknown keys refused. */
export function configurationSchema(definition: ExperimentDefinition): z.ZodObject<any> {
  const own = definition.configuration;
  return (own ? baseConfigurationSchema.extend(own.shape) : baseConfigurationSchema).strict();
}

export interface RunExperimentOptions {
  definition: ExperimentDefinition;
  /** Merged configuration (from YAML files and overrides). */
  configuration: Record<string, unknown>;
  /** Where the configuration came from, named in errors. */
  source?: string;
  experiment: Omit<ExperimentOptions, 'name'>;
  /** Called once the experiment exists (progress display, signal handling). */
  onExperiment?: (xp: Experiment) => void;
}

/**
 * Validates the configuration, opens the experiment named by its id, starts the services
 * it names, runs the definition, waits for every job and closes. If the run function
 * throws, the experiment stops launching (running jobs stay alive) and the error propagates.
 */
export async function runExperiment(options: RunExperimentOptions): Promise<ExperimentSummary> {
  const configuration = validateConfiguration(options);
  const xp = await experiment({ ...options.experiment, name: configuration.id });
  try {
    options.onExperiment?.(xp);
    try {
      // A configuration schema of its own may use `services` for something else.
      if (!ownsKey(options.definition, 'services')) {
        for (const name of configuration.services) await xp.useService(name);
      }
      await options.definition.run({ xp, configuration }, configuration);
    } catch (error) {
      await xp.stop();
      throw error;
    }
    return await xp.wait();
  } finally {
    await xp.close();
  }
}

function validateConfiguration(options: RunExperimentOptions): BaseConfiguration & Record<string, unknown> {
  const schema = configurationSchema(options.definition);
  const parsed = schema.safeParse(options.configuration);
  if (parsed.success) return parsed.data as BaseConfiguration & Record<string, unknown>;
  const lines = parsed.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(schemaAt(schema, issue.path)?.shape ?? {});
      return issue.keys.map((key) => `  - ${[...issue.path, key].map(String).join('.')}: unknown key${didYouMean(key, known)}`);
    }
    return [`  - ${issue.path.map(String).join('.') || '(configuration)'}: ${issue.message}`];
  });
  throw new UserInputError(`Invalid experiment configuration:\n${lines.join('\n')}`, {
    where: options.source,
    hint: 'fix the YAML file or the -c overrides; `baton run-experiment --show FILE` prints the merged configuration',
  });
}

function ownsKey(definition: ExperimentDefinition, key: string): boolean {
  return definition.configuration !== undefined && key in definition.configuration.shape;
}

/** The object schema at a key path, to suggest its keys. */
function schemaAt(schema: z.ZodObject<any>, path: readonly PropertyKey[]): z.ZodObject<any> | undefined {
  let current: z.ZodType | undefined = schema;
  for (const key of path) {
    while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current._zod.def.innerType as z.ZodType;
    current = current instanceof z.ZodObject ? (current.shape as Record<string, z.ZodType>)[String(key)] : undefined;
  }
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current._zod.def.innerType as z.ZodType;
  return current instanceof z.ZodObject ? current : undefined;
}
