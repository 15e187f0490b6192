// Runs an experiment the way `baton run-experiment` does (runExperiment, a
// signal handler that stops it), for the tests of what a stop leaves behind.
// argv[2]: JSON { workdir, log, kill }. The run function waits for a job that
// depends on a long one; SIGINT stops the experiment (with `kill`: cancels).
import { z } from 'zod';
import { defineExperiment, runExperiment } from '../../experiment/defineExperiment.ts';
import { append, copy } from '../../experiment/__fixtures__/tasks.ts';

const options = JSON.parse(process.argv[2]!) as { workdir: string; log: string; kill: boolean };
const startedAt = Date.now();
const say = (line: string) => process.stdout.write(`${line}\n`);

const definition = defineExperiment({
  configuration: z.object({}),
  async run({ xp }) {
    const long = xp.submit(append, { log: options.log, label: 'long', sleep: 60 });
    const dependent = xp.submit(copy, { input: long.path('stdout') });
    await dependent.wait();
    say(`dependent settled ${dependent.state}`);
  },
});

const summary = await runExperiment({
  definition,
  configuration: { id: 'stopping' },
  experiment: { workdir: options.workdir },
  onExperiment: (xp) => {
    process.once('SIGINT', () => {
      say(`stopping ${Date.now() - startedAt}`);
      void xp.stop({ kill: options.kill });
    });
  },
});
say(`summary ${Date.now() - startedAt} ${JSON.stringify(summary)}`);
process.on('exit', () => say(`exit ${Date.now() - startedAt}`));
