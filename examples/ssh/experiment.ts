// The SSH example: a small sweep of simulate jobs (one per seed) and a combine
// job that waits for all of them, plus one job that says where it ran. Where
// the jobs run comes from baton.config.yaml: the workspace is a folder of the
// remote host, reached through its ssh connector, and its default launcher is
// that host's ssh-pool.
import { defineExperiment } from '@baton/core';
import { z } from 'zod';
import { combine, simulate, whereAmI } from './tasks.ts';

export default defineExperiment({
  // Fields of ssh.yaml besides the base ones (id, file, title, parent...).
  configuration: z.object({
    seeds: z.array(z.number().int()).min(1),
    samples: z.number().int().positive().default(200_000),
  }),
  run: ({ xp }, cfg) => {
    xp.submit(whereAmI, {});
    const estimates = cfg.seeds.map((seed) => xp.submit(simulate, { seed, samples: cfg.samples }));
    // A job's output as a parameter: its path on the host. combine waits for every simulate job.
    xp.submit(combine, { estimates: estimates.map((job) => job.path('estimate.txt')) });
    // No need to wait: the command waits for every submitted job before it returns.
  },
});
