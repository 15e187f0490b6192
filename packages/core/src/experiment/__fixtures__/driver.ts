// Runs an experiment in its own process, for the tests that kill or race experiment processes.
// argv[2]: JSON { workdir, cwd, name, log, jobs: [{ label, sleep, tokens? }] }
import { experiment } from '../experiment.ts';
import { append } from './tasks.ts';

const options = JSON.parse(process.argv[2]!) as {
  workdir?: string;
  cwd?: string;
  name: string;
  log: string;
  jobs: { label: string; sleep?: number; tokens?: Record<string, number> }[];
};
const xp = await experiment({ name: options.name, workdir: options.workdir, cwd: options.cwd });
xp.events.on('job-state', (event) => process.stdout.write(`state ${event.state} ${event.hash}\n`));
for (const job of options.jobs) {
  xp.submit(append, { log: options.log, label: job.label, sleep: job.sleep ?? 0 }, { tokens: job.tokens });
}
const summary = await xp.wait();
await xp.close();
process.stdout.write(`summary ${JSON.stringify(summary.counts)}\n`);
process.exit(summary.failed.length > 0 ? 1 : 0);
