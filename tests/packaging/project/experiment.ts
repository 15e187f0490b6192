// A user's experiment module, as in the README: a shout job per word, and a measure
// job that waits for it and reads its output file.
import { defineExperiment } from '@baton/core';
import { z } from 'zod';
import { measure, shout } from './tasks.ts';

export default defineExperiment({
  configuration: z.object({ words: z.array(z.string().min(1)).min(1), runLog: z.string() }),
  run({ xp }, cfg) {
    for (const word of cfg.words) {
      const shouted = xp.submit(shout, { word, runLog: cfg.runLog });
      xp.submit(measure, { file: shouted.path('word.txt'), runLog: cfg.runLog });
    }
  },
});
