// The `where` of an error about a submit: the call, and the line of the user's code that
// made it (an experiment that submits from many places says which one).
import { callerSite, formatSite } from '../util/callerSite.ts';
import type { Task } from './defineTask.ts';

/** `<file>:<line>:<column>, in submit(<task id>[, <input>])`; computed only for an error (it reads the call stack). */
export function submitWhere(task: Task, input?: string): string {
  const call = input === undefined ? `submit(${task.id})` : `submit(${task.id}, ${input})`;
  const site = callerSite();
  return site ? `${formatSite(site)}, in ${call}` : call;
}
