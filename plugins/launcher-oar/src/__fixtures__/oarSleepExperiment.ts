// An experiment for the real `baton run-experiment` in the OAR integration tests
// (`--file` this module): one sleeper job, as long as the configuration says.
import { defineExperiment } from '@baton/core';
import { z } from 'zod';
import { sleeper } from './oarTasks.ts';

export default defineExperiment({
  configuration: z.object({ seconds: z.number(), label: z.string() }),
  run({ xp }, cfg) {
    xp.submit(sleeper, { seconds: cfg.seconds, label: cfg.label });
  },
});
