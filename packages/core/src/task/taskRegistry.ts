// One task id, one definition, per process: two different tasks under one id
// would share `<workspace>/jobs/<id>/` (and a function task's job would find
// whichever the module exports). The check runs at a task's first submit, so
// that a module imported twice (same definition site) is not an error.
import { UserInputError } from '../errors.ts';
import type { Task } from './defineTask.ts';
import { submitWhere } from './submitWhere.ts';

const submitted = new Map<string, Task>();

/** Records `task` as the definition of its id; throws if another definition already has it. */
export function claimTaskId(task: Task): void {
  const first = submitted.get(task.id);
  if (!first) {
    submitted.set(task.id, task);
    return;
  }
  if (first === task || (first.definedAt !== undefined && first.definedAt === task.definedAt)) return;
  throw new UserInputError(`Two different tasks have the id "${task.id}": one defined at ${describe(first)}, the other at ${describe(task)}`, {
    where: submitWhere(task),
    hint: 'give each task its own id (the id names the jobs\' folder), or import the one definition from where it is defined',
  });
}

function describe(task: Task): string {
  return task.definedAt ?? task.module ?? 'an unknown module';
}
