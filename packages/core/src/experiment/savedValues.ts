// What `xp.save` writes and `xp.load` reads back: plain JSON where jobs and their
// outputs become references that any later process turns back into dependencies.
import { Job } from '../job/job.ts';
import { JobOutput, type JobReference } from '../task/jobOutput.ts';

/** Jobs and outputs become references any later process can turn back into dependencies. */
export function encodeSaved(value: unknown): unknown {
  if (value instanceof Job) return { $job: reference(value), path: '' };
  if (value instanceof JobOutput) return { $job: reference(value.job), path: value.relativePath };
  if (Array.isArray(value)) return value.map(encodeSaved);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeSaved(item)]));
  }
  return value;
}

export function decodeSaved(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeSaved);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.$job && typeof record.$job === 'object') return new JobOutput(record.$job as JobReference, String(record.path ?? ''));
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, decodeSaved(item)]));
  }
  return value;
}

function reference(job: JobReference): JobReference {
  return { taskId: job.taskId, hash: job.hash, directory: job.directory };
}
