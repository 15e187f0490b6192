// Benchmark driver: the same experiment as trivial.ts, through the core API in
// this process, so that Node/tsx startup is told apart from Baton's own work.
// Run: node --import tsx scripts/bench/driver.ts --count 1000 --workdir /tmp/ws
// Prints one JSON line of milliseconds on stdout.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

// performance.now() counts from process start: this is what Node and tsx cost before our first line.
const startupMs = performance.now();

const { values } = parseArgs({
  options: { count: { type: 'string' }, workdir: { type: 'string' } },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count <= 0 || !values.workdir) {
  process.stderr.write('usage: node --import tsx scripts/bench/driver.ts --count N --workdir DIR\n');
  process.exit(2);
}

const importStart = performance.now();
const { experiment } = await import('@baton/core');
const { echoTask } = await import('./trivial.ts');
const importMs = performance.now() - importStart;

const openStart = performance.now();
const xp = await experiment({ name: 'bench-trivial', workdir: values.workdir });
const openMs = performance.now() - openStart;

const submitStart = performance.now();
for (let i = 1; i <= count; i++) xp.submit(echoTask, { i });
const submitMs = performance.now() - submitStart;

const waitStart = performance.now();
const summary = await xp.wait();
const waitMs = performance.now() - waitStart;

const closeStart = performance.now();
await xp.close();
const closeMs = performance.now() - closeStart;

process.stdout.write(
  `${JSON.stringify({
    startupMs,
    importMs,
    openMs,
    submitMs,
    waitMs,
    closeMs,
    // From experiment open to wait() resolved: Baton's own work for the jobs.
    inProcessMs: openMs + submitMs + waitMs,
    // CPU of this process (main thread and Node's thread pool), from its start: Baton's own cost, whatever the load.
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    done: summary.counts.done,
    failed: summary.counts.failed,
    // A benchmark with failed jobs measures nothing: say why they failed.
    failures: summary.failed.slice(0, 5).map((job) => ({ directory: job.directory, ...job.failure })),
  })}\n`,
);
