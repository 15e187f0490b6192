#!/usr/bin/env node
// Local benchmark: Baton's trivial-job throughput and resume time, side by side
// with xargs (and GNU parallel when installed) in the same run.
//   node scripts/bench-local.mjs [--jobs 1000] [--resume-jobs 10000] [--repeats 3] [--skip-resume] [--profile] [--keep]
//                                [--function-process-jobs N] [--skip-function-process]
// Prints a table of medians and minima; not a timed test. With --profile, also
// profiles one fresh and one resumed CLI run (node --cpu-prof) and prints the top
// self-time functions. See docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv, which } from 'zx';
import { cpuModel, format, median } from './bench/figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BATON = join(ROOT, 'packages/cli/bin/baton.js');
const FIXTURE = join(ROOT, 'scripts/bench/trivial.yaml');
const DRIVER = join(ROOT, 'scripts/bench/driver.ts');
const FUNCTION_DRIVER = join(ROOT, 'scripts/bench/functionDriver.ts');
const SUMMARIZE = join(ROOT, 'scripts/bench/summarizeProfile.mjs');

const jobs = Number(argv.jobs ?? 1000);
const resumeJobs = Number(argv['resume-jobs'] ?? 10_000);
const repeats = Number(argv.repeats ?? 3);
const cores = availableParallelism();

// The issue's targets hold for these sizes only: 1000 fresh jobs ≤ 1.0 s, 10,000 done jobs < 0.5 s.
const scratch = await mkdtemp(join(tmpdir(), 'baton-bench-'));
const rows = [];
const note = (line) => process.stderr.write(`${line}\n`);

note(`machine: ${cores} cores, ${cpuModel()}, node ${process.version}, load ${loadText()}`);
if (loadavg()[0] > 0.5) note('warning: the machine is busy (load > 0.5); figures will be noisy, rerun when it is quieter');
note(`scratch: ${scratch}`);

let succeeded = false;
try {
  // a. N trivial jobs from a fresh workspace, against xargs doing the same commands.
  rows.push(
    await measure(`baton run-experiment, ${jobs} jobs (fresh)`, { target: jobs === 1000 ? 1000 : undefined }, async (run) => {
      const workdir = join(scratch, `fresh-${run}`);
      const ms = await timed(['node', BATON, 'run-experiment', '--workdir', workdir, FIXTURE, '-c', `count=${jobs}`], { expect: `${jobs} done` });
      await checkDone(workdir, jobs);
      return ms;
    }),
  );
  rows.push(
    await measure(`driver (core API), ${jobs} jobs (fresh)`, {}, async (run) => {
      const figures = await driver(join(scratch, `driver-fresh-${run}`), jobs);
      return { ms: figures.totalMs, inProcessMs: figures.inProcessMs, startupMs: figures.startupMs + figures.importMs };
    }),
  );
  // Function tasks (a `run` that returns at once): in worker threads of the experiment
  // process (threads launcher), and in one job process each (local launcher), once:
  // that takes minutes (a Node startup per job).
  rows.push(
    await measure(`threads launcher, ${jobs} function tasks (fresh)`, { target: jobs === 1000 ? 500 : undefined }, async (run) => {
      const figures = await functionDriver(join(scratch, `threads-${run}`), jobs, 'threads');
      return { ms: figures.totalMs, inProcessMs: figures.inProcessMs, startupMs: figures.startupMs + figures.importMs, firstDoneMs: figures.firstDoneMs };
    }),
  );
  if (!argv['skip-function-process']) {
    const count = Number(argv['function-process-jobs'] ?? jobs);
    note(`${count} function tasks on the local launcher (a job process each), once; this takes a while...`);
    rows.push(
      await measure(`local launcher, ${count} function tasks (fresh, once)`, { repeats: 1 }, async (run) => {
        const figures = await functionDriver(join(scratch, `function-local-${run}`), count, 'local');
        return { ms: figures.totalMs, inProcessMs: figures.inProcessMs, startupMs: figures.startupMs + figures.importMs, firstDoneMs: figures.firstDoneMs };
      }),
    );
    const [threads, local] = rows.slice(-2);
    const perTask = (row, tasks) => median(row.extra.inProcessMs) / tasks;
    note(`function tasks, in-process time per task: threads ${format(perTask(threads, jobs))}, local launcher ${format(perTask(local, count))} (${(perTask(local, count) / perTask(threads, jobs)).toFixed(0)}×)`);
  }
  // Each Baton job is `/bin/sh job.sh`, which runs `echo i` and writes stdout and a done marker.
  rows.push(await measure(`xargs -P${cores}, sh -c 'echo i'`, { peer: true }, () => timedShell(`seq ${jobs} | xargs -P${cores} -I{} sh -c 'echo {} > /dev/null'`)));
  rows.push(
    await measure(`xargs -P${cores}, same files as a job`, { peer: true }, async (run) => {
      const directory = join(scratch, `xargs-${run}`);
      await mkdir(directory);
      return timedShell(`cd ${directory} && seq ${jobs} | xargs -P${cores} -I{} sh -c 'mkdir {} && cd {} && echo {} >>stdout 2>>stderr && : >done'`);
    }),
  );
  if (await which('parallel', { nothrow: true })) {
    rows.push(await measure(`GNU parallel -j${cores}`, { peer: true }, () => timedShell(`seq ${jobs} | parallel -j${cores} 'echo {} > /dev/null'`)));
  } else {
    note('GNU parallel is not installed: skipped');
  }

  // b. Re-running a finished experiment: every job is done, nothing runs.
  if (!argv['skip-resume']) {
    const workdir = join(scratch, 'resume');
    note(`first run of ${resumeJobs} jobs (to finish them once; this takes a while)...`);
    const firstMs = await timed(['node', BATON, 'run-experiment', '--workdir', workdir, FIXTURE, '-c', `count=${resumeJobs}`], { expect: `${resumeJobs} done` });
    await checkDone(workdir, resumeJobs);
    rows.push({ name: `baton run-experiment, ${resumeJobs} jobs (fresh, once)`, runs: [firstMs], extra: {} });
    rows.push(
      await measure(`baton run-experiment, ${resumeJobs} jobs (all done)`, { target: resumeJobs === 10_000 ? 500 : undefined }, () =>
        timed(['node', BATON, 'run-experiment', '--workdir', workdir, FIXTURE, '-c', `count=${resumeJobs}`], { expect: `${resumeJobs} done` }),
      ),
    );
    rows.push(
      await measure(`driver (core API), ${resumeJobs} jobs (all done)`, { target: resumeJobs === 10_000 ? 500 : undefined }, async () => {
        const figures = await driver(workdir, resumeJobs);
        return { ms: figures.totalMs, inProcessMs: figures.inProcessMs, startupMs: figures.startupMs + figures.importMs };
      }),
    );
  }

  printTable(rows);
  note(`load at the end: ${loadText()}`);
  if (argv.profile) await profileRuns();
  succeeded = true;
} finally {
  if (argv.keep || !succeeded) note(`kept ${scratch}${succeeded ? '' : ' for inspection'}`);
  else if (argv.profile) note(`profiles kept in ${scratch}/profile-*; remove it when done`);
  else await rm(scratch, { recursive: true, force: true });
}

/** Runs `once` `repeats` times (or `options.repeats`); a result is milliseconds, or { ms, ...more figures }. */
async function measure(name, { repeats: times = repeats, ...options }, once) {
  const runs = [];
  const extra = {};
  for (let run = 0; run < times; run++) {
    const result = await once(run);
    const { ms, ...more } = typeof result === 'number' ? { ms: result } : result;
    runs.push(ms);
    for (const [key, value] of Object.entries(more)) (extra[key] ??= []).push(value);
    note(`  ${name}: run ${run + 1}: ${format(ms)}${Object.entries(more).map(([key, value]) => `, ${key} ${format(value)}`).join('')}`);
  }
  return { name, runs, extra, ...options };
}

/** Wall time of a command from spawn to exit, in ms; fails unless it exits 0 (and prints `expect`). */
function timed(command, options = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: benchEnv() });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${command.join(' ')} exited with ${code}:\n${output}`));
      if (options.expect && !output.includes(options.expect)) return reject(new Error(`${command.join(' ')} did not print "${options.expect}":\n${output}`));
      resolve(options.output ? { ms, output } : ms);
    });
  });
}

function timedShell(script) {
  return timed(['sh', '-c', script]);
}

async function driver(workdir, count) {
  const { ms, output } = await timed(['node', '--import', 'tsx', DRIVER, '--count', String(count), '--workdir', workdir], { output: true });
  const figures = JSON.parse(output.trim().split('\n').pop());
  if (figures.done !== count) throw new Error(`driver: ${figures.done} of ${count} jobs done:\n${output}`);
  return { ...figures, totalMs: ms };
}

/** N trivial function tasks on the `threads` or the `local` launcher, through the core API (functionDriver.ts). */
async function functionDriver(workdir, count, launcher) {
  const { ms, output } = await timed(['node', '--import', 'tsx', FUNCTION_DRIVER, '--count', String(count), '--workdir', workdir, '--launcher', launcher], { output: true });
  const figures = JSON.parse(output.trim().split('\n').pop());
  if (figures.done !== count) throw new Error(`function driver (${launcher}): ${figures.done} of ${count} tasks done:\n${output}`);
  return { ...figures, totalMs: ms };
}

/** One fresh and one resumed CLI run under the V8 profiler; prints where the main thread spends its time. */
async function profileRuns() {
  const workdir = join(scratch, 'profiled');
  for (const label of ['fresh', 'all done']) {
    const directory = join(scratch, `profile-${label.replace(' ', '-')}`);
    const ms = await timed(['node', '--cpu-prof', '--cpu-prof-dir', directory, BATON, 'run-experiment', '--workdir', workdir, FIXTURE, '-c', `count=${jobs}`], { expect: `${jobs} done` });
    // One profile per thread; the main thread's is the one with the most samples.
    const files = await Promise.all((await readdir(directory)).map(async (name) => ({ path: join(directory, name), size: (await stat(join(directory, name))).size })));
    const main = files.sort((a, b) => b.size - a.size)[0].path;
    const { output } = await timed(['node', SUMMARIZE, main, '--top', '20'], { output: true });
    process.stdout.write(`\nprofile of baton run-experiment, ${jobs} jobs (${label}), ${format(ms)} under the profiler (${main}):\n${output}`);
  }
}

/** Every job must have run: one done marker per job directory. */
async function checkDone(workdir, count) {
  const base = join(workdir, 'jobs', 'echo');
  const hashes = await readdir(base);
  const done = hashes.filter((hash) => existsSync(join(base, hash, 'done'))).length;
  if (hashes.length !== count || done !== count) throw new Error(`${workdir}: ${done} done of ${hashes.length} job directories, expected ${count}`);
}

/** No settings file or workspace of the user leaks in. */
function benchEnv() {
  return { ...process.env, NO_COLOR: '1', BATON_WORKSPACE: '', HOME: scratch, XDG_CONFIG_HOME: scratch };
}

function printTable(results) {
  const xargs = results.find((row) => row.peer);
  const lines = [
    '| measurement | median | min | runs | startup (median) | in-process (median) | target | vs xargs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    const med = median(row.runs);
    const inProcess = row.extra.inProcessMs ? format(median(row.extra.inProcessMs)) : '';
    const startup = row.extra.startupMs ? format(median(row.extra.startupMs)) : '';
    const target = row.target ? `≤ ${format(row.target)} ${med <= row.target ? 'met' : 'MISSED'}` : '';
    const ratio = xargs && !row.peer && row.runs.length === repeats && row.name.includes(`${jobs} jobs`) ? `${(med / median(xargs.runs)).toFixed(1)}×` : '';
    lines.push(`| ${row.name} | ${format(med)} | ${format(Math.min(...row.runs))} | ${row.runs.length} | ${startup} | ${inProcess} | ${target} | ${ratio} |`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}




function loadText() {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}
