// The hello experiment: one greet job per name, and for each greeting a
// count-words job that reads the file the greet job wrote.
import { defineExperiment } from '@baton/core';
import { z } from 'zod';
import { countWords, greet } from './tasks.ts';

export default defineExperiment({
  // Fields of hello.yaml besides the base ones (id, file, title, parent...).
  configuration: z.object({
    names: z.array(z.string().min(1)).min(1),
    greeting: z.string().default('Hello'),
  }),
  run: ({ xp }, cfg) => {
    for (const name of cfg.names) {
      const greeting = xp.submit(greet, { name, greeting: cfg.greeting });
      // A job's output as a parameter: count-words waits for greet and gets the file's absolute path.
      xp.submit(countWords, { greeting: greeting.path('greeting.txt') });
    }
    // No need to wait here: the command waits for every submitted job before it returns.
  },
});
