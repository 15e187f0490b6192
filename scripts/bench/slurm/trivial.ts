// SLURM benchmark fixture: `count` trivial command jobs, one per i, each running
// `echo i`. The task id is the benchmark's own, so that its SLURM job names
// (`bench-echo-...`) can be found and cancelled if a run is interrupted.
import { z } from 'zod';
import { defineExperiment, defineTask } from '@baton/core';

export const benchEcho = defineTask({
  id: 'bench-echo',
  params: z.object({ i: z.number().int() }),
  command: (params) => ['echo', String(params.i)],
});

export default defineExperiment({
  configuration: z.object({ count: z.number().int().positive() }),
  run({ xp }, configuration) {
    for (let i = 1; i <= configuration.count; i++) xp.submit(benchEcho, { i });
  },
});
