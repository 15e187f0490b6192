// The OAR example: a small sweep of simulate jobs (one per seed), a combine
// job that waits for all of them, and a resumable refine job after it. Which
// launcher runs the jobs comes from baton.config.yaml (the workspace's default
// launcher, `oar`); refine's launcher can be chosen per submit.
import { defineExperiment } from '@baton/core';
import { z } from 'zod';
import { combine, refine, simulate } from './tasks.ts';

export default defineExperiment({
  // Fields of oar.yaml besides the base ones (id, file, title, parent...).
  configuration: z.object({
    seeds: z.array(z.number().int()).min(1),
    samples: z.number().int().positive().default(200_000),
    steps: z.number().int().positive().default(20),
    stepSeconds: z.number().nonnegative().default(0.25),
    /** A launcher of the workspace for the refine job: `tight` has a one-minute walltime (see README). */
    refineLauncher: z.string().default('oar'),
  }),
  run: ({ xp }, cfg) => {
    // Submitted together, the simulate jobs go to OAR as one array (one oarsub).
    const estimates = cfg.seeds.map((seed) => xp.submit(simulate, { seed, samples: cfg.samples }));
    // Job outputs as parameters: combine waits for every simulate job.
    const combined = xp.submit(combine, { estimates: estimates.map((job) => job.path('estimate.txt')) });
    xp.submit(refine, { pi: combined.path('pi.txt'), steps: cfg.steps, stepSeconds: cfg.stepSeconds }, { launcher: cfg.refineLauncher });
    // No need to wait: the command waits for every submitted job before it returns.
  },
});
