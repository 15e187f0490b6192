// A workspace's `services:` blocks: each block's `use` picks a service kind (the built-in
// `process`, or one a loaded plugin provides), whose schema validates the rest when the
// workspace opens. Services are created when an experiment starts one by name.
import { BatonError, UserInputError, didYouMean } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { PROCESS_SERVICE_KIND, processServiceFactory } from '../service/processService.ts';
import type { LoggerLike, Plugin, ServiceFactory, ServiceLike } from '../types.ts';
import { blockOrigin, locatedValidationError, type LocatedIssue } from './locatedIssues.ts';
import type { ServiceBlock } from './settingsSchema.ts';
import type { WorkspaceSettings } from './validateSettings.ts';
import { formatKeyPath, strictIfObject, zodIssuesToIssues } from './zodIssues.ts';
import { unknownKindMessage } from './unknownKind.ts';

export interface ServiceBlocksOptions {
  workspace: WorkspaceSettings;
  plugins: readonly Plugin[];
  /** The settings file, named in errors. */
  settingsFile?: string;
}

export interface ValidatedService {
  /** The name it is declared under: the service's id. */
  name: string;
  kind: string;
  factory: ServiceFactory;
  settings: unknown;
}

/** The services a workspace declares, ready to be created by name. */
export interface WorkspaceServices {
  /** The declared names, in order. */
  readonly names: readonly string[];
  /** A new service of that name (not started); an unknown name is an error with a did-you-mean. */
  create(name: string, options?: { logger?: LoggerLike }): Promise<ServiceLike>;
}

export interface CreateWorkspaceServicesOptions extends ServiceBlocksOptions {
  /** Folder relative paths of the settings resolve from. */
  baseDir: string;
}

/** Service kinds the plugins provide, plus the built-in `process`. */
export function serviceKinds(plugins: readonly Plugin[]): string[] {
  return [...serviceFactories(plugins).keys()];
}

/** Checks every service block of a workspace against its kind's schema, all problems reported at once. */
export function validateServiceBlocks(options: ServiceBlocksOptions): ValidatedService[] {
  const { workspace, plugins, settingsFile } = options;
  const where = settingsFile ?? (workspace.keyPath ? 'settings' : `workspace ${workspace.path}`);
  const factories = serviceFactories(plugins);
  const issues: LocatedIssue[] = [];
  const validated: ValidatedService[] = [];
  for (const [name, block] of Object.entries(workspace.services) as [string, ServiceBlock][]) {
    const { keyPath, file } = blockOrigin({ workspace, group: 'services', name });
    const { use: kind, ...rest } = block;
    const factory = factories.get(kind);
    if (!factory) {
      const known = [...factories.keys()];
      issues.push({
        file,
        path: formatKeyPath([...keyPath, 'use']),
        message: unknownKindMessage({ role: 'service', kind, known }),
      });
      continue;
    }
    const schema = strictIfObject(factory.settings);
    const parsed = schema.safeParse(rest, { reportInput: true });
    if (!parsed.success) {
      issues.push(...zodIssuesToIssues({ issues: parsed.error.issues, schema, prefix: keyPath }).map((issue) => ({ ...issue, file })));
      continue;
    }
    validated.push({ name, kind, factory, settings: parsed.data });
  }
  if (issues.length > 0) {
    throw locatedValidationError({
      summary: 'Invalid service settings in',
      issues,
      defaultWhere: where,
      hint: 'Fix the keys listed above; each service kind documents its settings (docs/services.md).',
    });
  }
  return validated;
}

/** Validates the workspace's service blocks now; creates each service when asked for it by name. */
export function createWorkspaceServices(options: CreateWorkspaceServicesOptions): WorkspaceServices {
  const { workspace, baseDir, settingsFile } = options;
  const validated = validateServiceBlocks(options);
  const byName = new Map(validated.map((service) => [service.name, service]));
  return {
    names: validated.map((service) => service.name),
    async create(name, { logger = createLogger(`baton:service:${name}`) } = {}) {
      const found = byName.get(name);
      if (!found) throw unknownService({ name, workspace, declared: [...byName.keys()], settingsFile });
      try {
        // Relative paths of a block resolve from the folder of the settings file that wrote it.
        const origin = blockOrigin({ workspace, group: 'services', name });
        return await found.factory.create(found.settings, { name, baseDir: origin.baseDir ?? baseDir, logger });
      } catch (error) {
        if (error instanceof BatonError) throw error;
        throw new BatonError(`Service "${name}" (${found.kind}) could not be created: ${(error as Error).message}`, {
          where: serviceWhere({ workspace, name, settingsFile }),
          hint: 'Check its settings; run with DEBUG=baton:* for details.',
          cause: error,
        });
      }
    },
  };
}

/** The error for a service name the workspace does not declare. */
export function unknownService(options: { name: string; workspace: Pick<WorkspaceSettings, 'id'>; declared: readonly string[]; settingsFile?: string }): UserInputError {
  const { name, workspace, declared, settingsFile } = options;
  return new UserInputError(`No service named "${name}" in workspace "${workspace.id}"${didYouMean(name, declared)}; declared: ${declared.join(', ') || 'none'}`, {
    where: settingsFile,
    hint: `declare it under \`services:\` in the workspace (e.g. services: { ${name}: { use: tensorboard } }), or create it in code and pass it to xp.useService(service)`,
  });
}

function serviceFactories(plugins: readonly Plugin[]): Map<string, ServiceFactory> {
  const factories = new Map<string, ServiceFactory>([[PROCESS_SERVICE_KIND, processServiceFactory as ServiceFactory]]);
  for (const plugin of plugins) {
    for (const [kind, factory] of Object.entries(plugin.services ?? {})) {
      // `process` is core's; a plugin does not replace it.
      if (kind !== PROCESS_SERVICE_KIND) factories.set(kind, factory as ServiceFactory);
    }
  }
  return factories;
}

function serviceWhere(options: { workspace: WorkspaceSettings; name: string; settingsFile: string | undefined }): string | undefined {
  const origin = blockOrigin({ workspace: options.workspace, group: 'services', name: options.name });
  const file = origin.file ?? options.settingsFile;
  return file ? `${file} (${formatKeyPath(origin.keyPath)})` : undefined;
}
