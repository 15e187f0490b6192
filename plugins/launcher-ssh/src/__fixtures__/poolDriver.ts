// An experiment in its own process, for the test that kills it and starts it again:
// one job of `remote-nap` on the workspace of the settings in `cwd`.
// argv[2]: JSON { cwd, name, seconds }.
import { experiment } from '@baton/core';
import { napper } from './remoteCommandTasks.ts';

const options = JSON.parse(process.argv[2]!) as { cwd: string; name: string; seconds: number };
const xp = await experiment({ name: options.name, cwd: options.cwd });
xp.events.on('job-state', (event) => process.stdout.write(`state ${event.state} ${event.hash.slice(0, 8)}\n`));
const job = xp.submit(napper, { seconds: options.seconds, label: 'survivor' });
process.stdout.write(`job ${job.directory}\n`);
const summary = await xp.wait();
process.stdout.write(`summary ${JSON.stringify(summary.counts)}\n`);
await xp.close();
process.exit(summary.failed.length > 0 ? 1 : 0);
