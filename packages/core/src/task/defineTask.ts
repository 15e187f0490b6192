// Tasks: named, typed units of work. A task either builds an argv (`command`)
// or is a function (`run`) executed in the job's own process by the runner.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { UserInputError } from '../errors.ts';
import { callerSite, formatSite } from '../util/callerSite.ts';
import type { Logger } from '../logger.ts';
import type { Requirements } from '../types.ts';
import type { JobOutput } from './jobOutput.ts';
import { paramsSchemaProblems } from './paramsSchemaCheck.ts';
import { parseDuration, parseRequirements } from './requirements.ts';

export type ParamsSchema = z.ZodObject<any>;

/** Parameters as a submitter writes them: any string may be a job's output instead. */
export type WithOutputs<T> = T extends string
  ? T | JobOutput
  : T extends readonly (infer U)[]
    ? WithOutputs<U>[]
    : T extends Record<string, unknown>
      ? { [K in keyof T]: WithOutputs<T[K]> }
      : T;

export interface CommandContext {
  /** The job directory. */
  directory: string;
}

export interface TaskContext extends CommandContext {
  taskId: string;
  hash: string;
  logger: Logger;
}

export interface TaskDefinition<S extends ParamsSchema> {
  /** Unique name; also a directory name under `<workspace>/jobs/` (at most 200 characters). */
  id: string;
  /**
   * A zod object schema; parameters equal to their `.default()` (at any depth)
   * and parameters declared with `option(...)` stay out of the identity.
   */
  params: S;
  /**
   * Version of the task, a positive integer: raise it to make every job of the
   * task new (old results are kept, not reused). Unset, it is not part of the identity.
   */
  version?: number;
  /** Builds the job's argv from its parameters; each element reaches the program verbatim. */
  command?: (params: z.output<S>, context: CommandContext) => readonly string[];
  /** Runs in the job's own process (not the experiment's). The task must be exported from its module. */
  run?: (params: z.output<S>, context: TaskContext) => unknown;
  /** Requirements expression, e.g. `cuda(mem=24G)*2 & cpu(cores=8) & duration=4h`. */
  requirements?: string;
  /** Counter tokens the job holds while it runs, e.g. `{ gpu: 1 }`. */
  tokens?: Record<string, number>;
  /** Environment variables for the job (win over settings, workspace and experiment). */
  env?: Record<string, string>;
  /** Name of the launcher to use unless the submit call says otherwise. */
  launcher?: string;
  /**
   * A resumable task checkpoints when it receives SIGUSR2 (sent ahead of its
   * time limit by launchers that have one) and is resubmitted after a timeout,
   * up to `retries` times; its output files keep growing across attempts.
   */
  resumable?: boolean | { retries?: number; signalAhead?: string | number };
  /** Module that exports the task (`import.meta.url`); found from the call site when omitted. */
  module?: string;
}

export interface Task<S extends ParamsSchema = ParamsSchema> extends Readonly<Omit<TaskDefinition<S>, 'resumable'>> {
  readonly __batonTask: true;
  /** Normalized `resumable` option. */
  readonly resumable?: { retries: number; signalAheadSeconds: number };
  /** Parsed requirements, one entry per `|` alternative. */
  readonly requirementAlternatives: readonly Requirements[];
  /** Where defineTask was called (`file:line:column`), to tell two definitions of one id apart. */
  readonly definedAt?: string;
}

export type TaskParams<T> = T extends Task<infer S> ? z.output<S> : never;
export type TaskInput<T> = T extends Task<infer S> ? WithOutputs<z.input<S>> : never;

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/**
 * Longest task id. The id names a directory (255 bytes at most on common file
 * systems); the rest is room for the names Baton and launchers derive from it.
 */
export const MAX_TASK_ID_LENGTH = 200;

export function defineTask<S extends ParamsSchema>(definition: TaskDefinition<S>): Task<S> {
  const where = `defineTask({ id: ${JSON.stringify(definition.id)} })`;
  if (typeof definition.id !== 'string' || !TASK_ID.test(definition.id)) {
    throw new UserInputError(`Invalid task id ${JSON.stringify(definition.id)}`, {
      where,
      hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit (it names a directory)',
    });
  }
  if (definition.id.length > MAX_TASK_ID_LENGTH) {
    throw new UserInputError(`Task id of ${definition.id.length} characters is too long (at most ${MAX_TASK_ID_LENGTH})`, {
      where: `defineTask({ id: ${JSON.stringify(`${definition.id.slice(0, 40)}...`)} })`,
      hint: `shorten the id to ${MAX_TASK_ID_LENGTH} characters or fewer (it names the jobs' directory)`,
    });
  }
  if (definition.version !== undefined && (!Number.isInteger(definition.version) || definition.version < 1)) {
    throw new UserInputError(`Invalid version ${JSON.stringify(definition.version)} for task "${definition.id}"`, {
      where,
      hint: 'give a whole number from 1 (raise it to make new jobs), or leave version out',
    });
  }
  if (!(definition.params instanceof z.ZodObject)) {
    throw new UserInputError(`Task "${definition.id}" has no params schema`, { where, hint: 'pass params: z.object({ ... })' });
  }
  if (Boolean(definition.command) === Boolean(definition.run)) {
    throw new UserInputError(`Task "${definition.id}" must have exactly one of command and run`, {
      where,
      hint: 'give command: (p) => ["prog", ...] for a program, or run: async (p) => {...} for a function',
    });
  }
  const problems = paramsSchemaProblems(definition.params);
  if (problems.length > 0) {
    throw new UserInputError(`Task "${definition.id}" has parameters that cannot reach its job:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      where,
      hint: 'parameters travel to the job through params.json: use JSON values, bigint, Date, Set or Map, and build other objects inside the task',
    });
  }
  const site = callerSite();
  const module = definition.run ? normalizeModule(definition.module ?? site?.file) : definition.module;
  return Object.freeze({
    ...definition,
    module,
    definedAt: site ? formatSite(site) : undefined,
    resumable: normalizeResumable(definition.resumable, where),
    __batonTask: true as const,
    requirementAlternatives: parseRequirements(definition.requirements),
  });
}

export function isTask(value: unknown): value is Task {
  return typeof value === 'object' && value !== null && (value as { __batonTask?: unknown }).__batonTask === true;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_SIGNAL_AHEAD_SECONDS = 60;

function normalizeResumable(option: TaskDefinition<ParamsSchema>['resumable'], where: string): Task['resumable'] {
  if (!option) return undefined;
  const { retries = DEFAULT_RETRIES, signalAhead = DEFAULT_SIGNAL_AHEAD_SECONDS } = option === true ? {} : option;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new UserInputError(`Invalid resumable.retries ${retries}`, { where, hint: 'give a whole number of resubmissions, e.g. 3' });
  }
  const signalAheadSeconds = typeof signalAhead === 'number' ? signalAhead : parseDuration(signalAhead, `${where} resumable.signalAhead`);
  return { retries, signalAheadSeconds };
}

function normalizeModule(module: string | undefined): string | undefined {
  if (!module) return undefined;
  if (module.startsWith('file:')) return pathToFileURL(fileURLToPath(module)).href;
  return pathToFileURL(module).href;
}
