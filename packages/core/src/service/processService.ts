// The service kind `process`, always available (like the `local` launcher): any command that
// serves HTTP on the port it is given, declared in the settings file:
//   services: { docs: { use: process, command: [python3, -m, http.server, '{port}', --bind, 127.0.0.1] } }
import { z } from 'zod';
import { expandPath } from '../settings/expandPath.ts';
import type { ServiceFactory, ServiceFactoryContext } from '../types.ts';
import { ProcessWebService } from './processWebService.ts';

/** The kind of the built-in process service. */
export const PROCESS_SERVICE_KIND = 'process';

const urlPath = z.string().regex(/^\//, 'must start with "/"');

export const processServiceSettings = z
  .strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe('The command and its arguments; "{port}" is replaced by a free port of 127.0.0.1 the command must serve HTTP on ("{host}": 127.0.0.1, "{id}": the service\'s name)'),
    path: urlPath.default('/').describe('Path of the service\'s URL (default "/")'),
    readyPath: urlPath.optional().describe('Path asked until it answers (any status below 500) to tell that the service serves (default: `path`)'),
    description: z.string().min(1).optional().describe('What the monitor shows (default: the name)'),
    cwd: z.string().min(1).optional().describe('Working directory; "~" and paths relative to the settings file are resolved'),
    env: z.record(z.string(), z.string()).optional().describe('Environment variables for the command; "{port}" is replaced in the values'),
    keep: z.boolean().default(false).describe('Leave it running when the experiment ends (default: stopped with it)'),
    startTimeout: z.number().positive().default(60).describe('Seconds it may take to answer HTTP before it counts as failed'),
  })
  .refine((settings) => [...settings.command, ...Object.values(settings.env ?? {})].some((text) => text.includes('{port}')), {
    path: ['command'],
    message: 'must say where the port goes: put "{port}" in an argument (e.g. [python3, -m, http.server, "{port}"]) or in an `env` value',
  })
  .describe('Any command that serves HTTP on the port it is given');

export type ProcessServiceSettings = z.output<typeof processServiceSettings>;

/** Creates a process service from its validated settings block. */
export function createProcessService(settings: ProcessServiceSettings, context: Pick<ServiceFactoryContext, 'name' | 'baseDir'>): ProcessWebService {
  return new ProcessWebService({
    id: context.name,
    description: settings.description ?? `${settings.command.join(' ')}`,
    command: settings.command,
    path: settings.path,
    readyPath: settings.readyPath,
    cwd: settings.cwd === undefined ? undefined : expandPath({ path: settings.cwd, baseDir: context.baseDir }),
    env: settings.env,
    keep: settings.keep,
    startTimeoutMs: settings.startTimeout * 1000,
  });
}

export const processServiceFactory: ServiceFactory<typeof processServiceSettings> = {
  settings: processServiceSettings,
  create: (settings, context) => createProcessService(settings, context),
};
