// A lost wake-up with nothing else pending: a launcher whose capacity grows without
// telling anyone, no job process, no poll to come. Only the watchdog can start the
// jobs; if it let the process end, this script would end with its work undone.
// argv[2]: the workspace path. Prints `done N` when the run ended.
import { z } from 'zod';
import { experiment } from '../../experiment/experiment.ts';
import { defineTask } from '../../task/defineTask.ts';
import { InProcessLauncher, workspaceWith } from './inProcessLauncher.ts';
import { MemoryConnector } from './memoryConnector.ts';

const step = defineTask({ id: 'stall-step', params: z.object({ i: z.number() }), command: () => ['true'] });

const connector = new MemoryConnector();
const launcher = new InProcessLauncher({ connector, runMs: () => 0, maxConcurrent: 0 });
const xp = await experiment({ name: 'stall', openedWorkspace: workspaceWith(process.argv[2]!, [launcher], connector) });
setTimeout(() => (launcher.maxConcurrent = 2), 100);
for (let i = 0; i < 5; i++) xp.submit(step, { i });
const summary = await xp.wait();
await xp.close();
process.stdout.write(`done ${summary.counts.done}\n`);
