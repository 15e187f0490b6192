// SLURM benchmark driver: the experiment of trivial.ts through the core API in
// this process, with the settings of a project folder that declares a slurm
// launcher. Besides times, it reports what the CLI cannot: the launcher's own
// command counts, how many status polls the scheduler made, and the most jobs
// one poll asked about.
// Run: node --import tsx scripts/bench/slurm/driver.ts --count 200 --config-dir DIR
// Prints one JSON line on stdout.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { LaunchHandle } from '@baton/core';

const startupMs = performance.now();

const { values } = parseArgs({
  options: { count: { type: 'string' }, 'config-dir': { type: 'string' }, launcher: { type: 'string', default: 'bench' } },
});
const count = Number(values.count);
const configDir = values['config-dir'];
if (!Number.isInteger(count) || count <= 0 || !configDir) {
  process.stderr.write('usage: node --import tsx scripts/bench/slurm/driver.ts --count N --config-dir DIR [--launcher NAME]\n');
  process.exit(2);
}

const { experiment } = await import('@baton/core');
const { SlurmLauncher } = await import('@baton/launcher-slurm');
const { benchEcho } = await import('./trivial.ts');

const openStart = performance.now();
const xp = await experiment({ name: 'bench-slurm', configDir, cwd: configDir });
const openMs = performance.now() - openStart;

const launcher = xp.workspace.launchers.get(values.launcher!);
if (!(launcher instanceof SlurmLauncher)) {
  process.stderr.write(`the settings in ${configDir} declare no slurm launcher named "${values.launcher}"\n`);
  process.exit(2);
}
// Count the scheduler's status polls by wrapping this one launcher's status().
let polls = 0;
let largestPoll = 0;
const status = launcher.status.bind(launcher);
launcher.status = (handles: readonly LaunchHandle[]) => {
  polls++;
  largestPoll = Math.max(largestPoll, handles.length);
  return status(handles);
};

const submitStart = performance.now();
for (let i = 1; i <= count; i++) xp.submit(benchEcho, { i });
const summary = await xp.wait();
const waitMs = performance.now() - submitStart;
await xp.close();

process.stdout.write(
  `${JSON.stringify({
    startupMs,
    openMs,
    // From the first submit() to wait() resolved: gathering, sbatch, the jobs, polling.
    waitMs,
    done: summary.counts.done,
    failed: summary.counts.failed,
    failures: summary.failed.slice(0, 5).map((job) => ({ directory: job.directory, ...job.failure })),
    commands: launcher.commandCounts,
    polls,
    largestPoll,
  })}\n`,
);
