// Checks at xp.submit: mistakes that would otherwise fail a job once launched (its
// command, where it runs, its module) are refused at the submit, with what to change.
import { fileURLToPath } from 'node:url';
import { BatonError, UserInputError } from '../errors.ts';
import type { Job } from '../job/job.ts';
import { checkArgv } from '../job/shellValues.ts';
import { chooseLauncher } from '../scheduler/chooseLauncher.ts';
import { isTask, type Task } from '../task/defineTask.ts';
import { submitWhere } from '../task/submitWhere.ts';
import { userModuleExports } from '../util/importUserModule.ts';
import type { Workspace } from '../workspace/workspace.ts';

/**
 * A command task bound for a launcher that does not run job.sh (the `threads` launcher
 * calls a task's function in a thread: it has nothing to run a command with) is refused,
 * with the launchers that can run it, rather than failing once launched. `named`: the
 * launcher the submit or the task names; `defaultLauncher`: the experiment's.
 */
export function refuseCommandOnFunctionLauncher(options: { workspace: Workspace; task: Task<any>; named: string | undefined; defaultLauncher: string | undefined }): void {
  const { workspace, task, named, defaultLauncher } = options;
  const { launchers } = workspace;
  const likely = launchers.get(named ?? defaultLauncher ?? workspace.defaultLauncher);
  if (likely?.runsJobScript !== false) return;
  // Unnamed, a job goes to the first launcher that offers what it requires: maybe not the default.
  const choice = chooseLauncher({ workspace, requested: named, fallback: defaultLauncher, alternatives: task.requirementAlternatives });
  if (!('launcher' in choice) || choice.launcher.runsJobScript !== false) return;
  const chosen = choice.launcher;
  const able = [...launchers.values()].filter((candidate) => candidate.runsJobScript !== false).map((candidate) => candidate.name);
  throw new UserInputError(`Task "${task.id}" is a command task, and launcher "${chosen.name}" (${chosen.kind}) runs only function tasks (defineTask with run)`, {
    where: submitWhere(task),
    hint:
      able.length > 0
        ? `submit it to a launcher that runs commands, e.g. xp.submit(${task.id}, params, { launcher: ${JSON.stringify(able[0])} }) or launcher: ${JSON.stringify(able[0])} in its defineTask (this workspace has: ${able.join(', ')})`
        : `this workspace has no launcher that runs commands: declare one in the settings (launchers: { local: { use: local } }) and submit the task to it with { launcher: "local" }`,
  });
}

/**
 * A function task's job imports the task's module and looks for the task among its
 * exports. A task defined in the experiment's own module without `export` would fail in
 * every job: refused at its first submit instead. (Modules the experiment imported itself
 * are not looked at: their exports are not known here.) Each task is looked at once.
 */
export class ExportedTasks {
  readonly #found = new WeakSet<Task<any>>();

  check(task: Task<any>): void {
    if (this.#found.has(task) || task.module === undefined) return;
    const exports = userModuleExports(task.module);
    if (exports === undefined || Object.values(exports).some((value) => isTask(value) && value.id === task.id)) {
      this.#found.add(task);
      return;
    }
    throw new UserInputError(`Function task "${task.id}" is not exported from its module, ${fileURLToPath(task.module)}`, {
      where: task.definedAt ?? submitWhere(task),
      hint: 'its jobs run in their own process (or a thread), which imports that module and looks for the task among its exports: add `export` to the declaration (export const ... = defineTask(...))',
    });
  }
}

/** A command task's argv, built now from the parsed parameters, must reach job.sh as it is. */
export function checkCommand(job: Job): void {
  // A function task has none (most jobs of a big sweep: nothing to build per job).
  if (!job.task.command) return;
  const where = `command of task "${job.taskId}" for ${job.shortName}`;
  let argv: readonly unknown[] | undefined;
  try {
    argv = job.commandArgv(job.directory);
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw new UserInputError(`The command function of task "${job.taskId}" threw: ${(error as Error)?.message ?? String(error)}`, {
      where,
      hint: 'fix the task\'s command function; it runs at submit with the parsed parameters',
      cause: error,
    });
  }
  if (argv) checkArgv(argv, where);
}
