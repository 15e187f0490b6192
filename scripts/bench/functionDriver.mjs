// Benchmark driver for function tasks: N trivial function tasks (trivialFunction.mjs)
// through the core API on one launcher, `threads` (worker threads in this
// process) or `local` (one job process each), declared in a settings file.
// Plain JavaScript, as a built project runs: no tsx in the process unless --task-module ts.
// Run: node scripts/bench/functionDriver.mjs --count 1000 --workdir /tmp/ws --launcher threads
// The task module is JavaScript (trivialFunction.mjs, as a built project ships it);
// `--task-module ts` takes the TypeScript one (a thread then loads tsx to import it).
// Prints one JSON line of milliseconds on stdout.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cpuTimes } from './figures.mjs';

// performance.now() counts from process start: this is what Node and tsx cost before our first line.
const startupMs = performance.now();

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    workdir: { type: 'string' },
    launcher: { type: 'string', default: 'threads' },
    'task-module': { type: 'string', default: 'js' },
  },
});
const count = Number(values.count);
const launcher = values.launcher;
const taskModule = values['task-module'];
if (!Number.isInteger(count) || count <= 0 || !values.workdir || !['threads', 'local'].includes(launcher) || !['js', 'ts'].includes(taskModule)) {
  process.stderr.write('usage: node scripts/bench/functionDriver.mjs --count N --workdir DIR [--launcher threads|local] [--task-module js|ts]\n');
  process.exit(2);
}

// Settings of its own, next to the workspace: both launchers declared, the chosen one the default.
const configDir = join(dirname(values.workdir), `config-${launcher}-${Date.now()}`);
await mkdir(configDir, { recursive: true });
await writeFile(
  join(configDir, 'config.yaml'),
  [
    'workspaces:',
    '  - id: bench',
    `    path: ${JSON.stringify(values.workdir)}`,
    `    launcher: ${launcher}`,
    '    launchers:',
    '      threads: { use: threads }',
    '      local: { use: local }',
    '',
  ].join('\n'),
);

const importStart = performance.now();
const { experiment, importUserModule } = await import('@baton/core');
// The TypeScript module goes through Baton's loader (tsx registered on first use), as a user's would.
const { noopTask } = await importUserModule(new URL(taskModule === 'js' ? './trivialFunction.mjs' : './trivialFunction.ts', import.meta.url).pathname);
const importMs = performance.now() - importStart;

const openStart = performance.now();
const xp = await experiment({ name: 'bench-function', configDir, workspace: 'bench' });
const openMs = performance.now() - openStart;

// The first job's end: on threads, when the pool's threads have started (Node, tsx, imports).
let firstDoneMs;
xp.events.on('job-state', (event) => {
  if (event.state === 'done') firstDoneMs ??= performance.now() - openStart;
});

const submitStart = performance.now();
for (let i = 1; i <= count; i++) xp.submit(noopTask, { i });
const submitMs = performance.now() - submitStart;

const waitStart = performance.now();
const summary = await xp.wait();
const waitMs = performance.now() - waitStart;

const closeStart = performance.now();
await xp.close();
const closeMs = performance.now() - closeStart;
const cpu = cpuTimes();

process.stdout.write(
  `${JSON.stringify({
    launcher,
    taskModule,
    startupMs,
    importMs,
    openMs,
    submitMs,
    waitMs,
    closeMs,
    inProcessMs: openMs + submitMs + waitMs,
    firstDoneMs,
    cpuMs: cpu.all,
    cpuMainMs: cpu.main,
    done: summary.counts.done,
    failed: summary.counts.failed,
    failures: summary.failed.slice(0, 5).map((job) => ({ directory: job.directory, ...job.failure })),
  })}\n`,
);
