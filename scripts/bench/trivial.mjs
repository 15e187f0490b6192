// Benchmark fixture, as a built project ships it (JavaScript: no tsx is loaded):
// `count` trivial command jobs, one per i, each running `echo i`. Same jobs as trivial.ts.
import { z } from 'zod';
import { defineExperiment, defineTask } from '@baton/core';

export const echoTask = defineTask({
  id: 'echo',
  params: z.object({ i: z.number().int() }),
  command: (params) => ['echo', String(params.i)],
});

export default defineExperiment({
  configuration: z.object({ count: z.number().int().positive() }),
  run({ xp }, configuration) {
    for (let i = 1; i <= configuration.count; i++) xp.submit(echoTask, { i });
  },
});
