// An experiment in its own process, for the test that kills it and starts it again.
// argv[2]: JSON { cwd, name, seconds } — one job that sleeps that long.
import { experiment } from '@baton/core';
import type { OarLauncher } from '../oarLauncher.ts';
import { sleeper } from './oarTasks.ts';

const options = JSON.parse(process.argv[2]!) as { cwd: string; name: string; seconds: number };
const xp = await experiment({ name: options.name, cwd: options.cwd });
xp.events.on('job-state', (event) => process.stdout.write(`state ${event.state} ${event.hash.slice(0, 8)}\n`));
const job = xp.submit(sleeper, { seconds: options.seconds, label: 'survivor' });
process.stdout.write(`job ${job.directory}\n`);
const summary = await xp.wait();
const launcher = xp.workspace.launchers.get('cluster') as OarLauncher;
process.stdout.write(`summary ${JSON.stringify(summary.counts)}\ncommands ${JSON.stringify(launcher.commandCounts)}\nfailure ${JSON.stringify(job.failure ?? null)}\n`);
await xp.close();
process.exit(summary.failed.length > 0 ? 1 : 0);
