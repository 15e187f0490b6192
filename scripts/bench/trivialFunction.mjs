// Benchmark fixture: the trivial function task of trivialFunction.ts, in plain
// JavaScript, as a built project ships its task modules: a worker thread of the
// threads launcher imports it without loading tsx.
import { z } from 'zod';
import { defineTask } from '@baton/core/task';

export const noopTask = defineTask({
  id: 'noop',
  params: z.object({ i: z.number().int() }),
  run: () => undefined,
});
