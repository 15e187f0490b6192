// `@baton/core/task`: what a task module needs (defineTask, option, JobOutput and their
// types), without the scheduler, settings or experiments. A function task's job process
// imports the task's module, so a module that imports this instead of `@baton/core`
// starts its jobs sooner. `@baton/core` exports the same values.
export { defineTask, isTask, MAX_TASK_ID_LENGTH } from './defineTask.ts';
export type { Task, TaskDefinition, TaskContext, CommandContext, TaskInput, TaskParams, WithOutputs, ParamsSchema } from './defineTask.ts';
export { option, isOption } from './identityParams.ts';
export { JobOutput } from './jobOutput.ts';
export type { JobReference } from './jobOutput.ts';
