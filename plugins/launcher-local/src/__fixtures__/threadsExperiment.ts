// An experiment process of its own, for the tests that need two processes: runs
// `sleeper` jobs on a threads launcher in workspace argv[2], with the log argv[3];
// `slow` sleeps a minute, `later` until the file argv[4] exists. Prints the job
// directories as one JSON line once submitted, and each job's end state at the end.
import { join } from 'node:path';
import { createLogger, experiment, LocalConnector } from '@baton/core';
import type { Workspace } from '@baton/core';
import { ThreadsLauncher } from '../threadsLauncher.ts';
import { sleeper } from './threadTasks.ts';

const [root, log, release] = process.argv.slice(2) as [string, string, string];
const connector = new LocalConnector();
const threads = new ThreadsLauncher({ name: 'threads', connector, logger: createLogger('baton:test:threads-child'), pollIntervalMs: 100 });
const workspace: Workspace = {
  id: 'child',
  path: join(root, 'ws'),
  env: {},
  connector,
  launchers: new Map([[threads.name, threads]]),
  defaultLauncher: threads.name,
  tokens: new Map(),
  close: () => threads.close(),
};
const xp = await experiment({ name: 'child', openedWorkspace: workspace });
const slow = xp.submit(sleeper, { log, label: 'slow', ms: 60_000 });
const later = xp.submit(sleeper, { log, label: 'later', ms: 60_000, release });
process.stdout.write(`${JSON.stringify({ slow: slow.directory, later: later.directory })}\n`);
await xp.wait();
process.stdout.write(`${JSON.stringify({ slow: [slow.state, slow.failure?.reason], later: [later.state] })}\n`);
await xp.close();
await workspace.close();
