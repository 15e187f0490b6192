// Benchmark fixture: a trivial function task (it returns at once), run by the
// threads launcher in a worker thread or, on the local launcher, by the job
// runner in a process of its own.
import { z } from 'zod';
import { defineTask } from '@baton/core/task';

export const noopTask = defineTask({
  id: 'noop',
  params: z.object({ i: z.number().int() }),
  run: () => undefined,
});
