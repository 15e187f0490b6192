#!/usr/bin/env node
// OAR benchmark: N trivial jobs through Baton (the real CLI) against a plain shell
// loop of `oarsub` plus waiting for them with oarstat, on the same running cluster,
// in one run.
//   node scripts/bench-oar.mjs [--jobs 200] [--repeats 3] [--fast-poll 1000] [--keep]
// Needs a running cluster: sudo bash scripts/oar-cluster.sh start. OAR refuses root's
// jobs: run as root, the script runs itself again as the cluster's test user
// ($BATON_OAR_USER, default batontest), with its scratch folder in that user's home.
// Prints a table of medians and minima, and how many oarsub/oarstat/oardel calls each
// run made; not a timed test. See docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv, which } from 'zx';
import { callsText, checkDone, commandWrappers, loadText, timed } from './bench/clusterBench.mjs';
import { cpuModel, format, median } from './bench/figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const BATON = join(ROOT, 'packages/cli/bin/baton.js');
const FIXTURE = join(ROOT, 'scripts/bench/oar/trivial.yaml');
const COMMANDS = ['oarsub', 'oarstat', 'oardel'];
/** The OAR job name of the shell loop's jobs; Baton's are `bench-echo-...` (the fixture's task id). */
const SHELL_JOB_NAME = 'baton-bench-shell';
/** The same resources for both sides: what the Baton launcher below asks for. */
const RESOURCES = { resources: '/core=1', walltime: '0:10:00' };

const note = (line) => process.stderr.write(`${line}\n`);

if (process.getuid() === 0) {
  const user = process.env.BATON_OAR_USER ?? 'batontest';
  const home = spawnSync('getent', ['passwd', user], { encoding: 'utf8' }).stdout.split(':')[5];
  if (!home) {
    note(`the OAR test user ${user} does not exist; start the cluster with: sudo bash scripts/oar-cluster.sh start`);
    process.exit(2);
  }
  note(`running as ${user} (OAR refuses root's jobs)`);
  const again = spawnSync('runuser', ['-u', user, '--', 'env', `HOME=${home}`, process.execPath, SELF, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(again.status ?? 1);
}

const jobs = Number(argv.jobs ?? 200);
const repeats = Number(argv.repeats ?? 3);
const fastPoll = Number(argv['fast-poll'] ?? 1000);

if (spawnSync('oarnodes', ['-s'], { encoding: 'utf8', timeout: 15_000 }).stdout?.includes('Alive') !== true) {
  note('no OAR cluster answers `oarnodes -s`; start one with: sudo bash scripts/oar-cluster.sh start');
  process.exit(2);
}

// In the user's home: OAR's job-resource manager may purge the user's files in /tmp.
const scratch = await mkdtemp(join(homedir(), 'baton-bench-oar-'));
const bin = await commandWrappers(join(scratch, 'bin'), COMMANDS, 'is OAR installed? (sudo bash scripts/oar-cluster.sh start)');
await countJobsPerOarstat(bin);
const rows = [];

note(`machine: ${availableParallelism()} cores, ${cpuModel()}, node ${process.version}, load ${loadText()}`);
note(`cluster: ${clusterText()}`);
if (loadavg()[0] > 0.5) note('warning: the machine is busy (load > 0.5); figures will be noisy, rerun when it is quieter');
note(`scratch: ${scratch}`);

let succeeded = false;
try {
  rows.push(await measure(`baton run-experiment, ${jobs} jobs (pollInterval 5 s, default)`, { jobs }, (run) => batonCli({ label: `cli-${run}`, count: jobs })));
  rows.push(
    await measure(`baton run-experiment, ${jobs} jobs (pollInterval ${format(fastPoll)})`, { jobs }, (run) =>
      batonCli({ label: `cli-fast-${run}`, count: jobs, pollInterval: fastPoll }),
    ),
  );
  rows.push(
    await measure(`baton run-experiment, ${jobs} jobs, no arrays (maxArraySize 1)`, { jobs }, (run) =>
      batonCli({ label: `cli-single-${run}`, count: jobs, pollInterval: fastPoll, extra: 'maxArraySize: 1' }),
    ),
  );
  rows.push(await measure(`shell loop: ${jobs} × oarsub, oarstat -s every 1 s`, { jobs, peer: true }, (run) => shellLoop({ label: `shell-${run}`, count: jobs })));
  printTable(rows);
  note(`load at the end: ${loadText()}`);
  succeeded = true;
} finally {
  await cancelLeftovers();
  if (argv.keep || !succeeded) note(`kept ${scratch}${succeeded ? '' : ' for inspection'}`);
  else await rm(scratch, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// The contenders. Each returns { ms, calls, ...more figures }.

/** The real `baton` command on a fresh project whose settings declare one oar launcher. */
async function batonCli({ label, count, pollInterval, extra }) {
  const project = await oarProject(label, { pollInterval, extra });
  const { ms, calls, output } = await timedRun(['node', BATON, 'run-experiment', '--config-dir', project, FIXTURE, '-c', `count=${count}`], { label });
  if (!output.includes(`${count} done`)) throw new Error(`${label}: the summary does not say "${count} done":\n${output}`);
  await checkDone(join(project, 'ws'), count);
  return { ms, calls, perCall: await jobsPerOarstat(label) };
}

/** What a user does by hand: oarsub in a loop, then oarstat every second until every job has ended. */
async function shellLoop({ label, count }) {
  const directory = join(scratch, label);
  await mkdir(directory);
  const { resources, walltime } = RESOURCES;
  const script = `
started=$(date +%s%N)
ids=
i=1
while [ "$i" -le ${count} ]; do
  id=$(oarsub -n ${SHELL_JOB_NAME} -l ${resources},walltime=${walltime} -O OAR.%jobid%.out -E OAR.%jobid%.err "echo $i" | sed -n 's/^OAR_JOB_ID=//p')
  [ -n "$id" ] || exit 1
  ids="$ids -j $id"
  i=$((i + 1))
done
echo "$ids" >ids.txt
echo "submitted in $((($(date +%s%N) - started) / 1000000)) ms"
while :; do
  left=$(oarstat -s $ids | grep -cv ': \\(Terminated\\|Error\\)$')
  [ "$left" -eq 0 ] && break
  sleep 1
done`;
  const { ms, calls, output } = await timedRun(['sh', '-c', script], { label, cwd: directory });
  const outputs = (await readdir(directory)).filter((name) => /^OAR\.\d+\.out$/.test(name));
  if (outputs.length !== count) throw new Error(`${label}: ${outputs.length} job outputs in ${directory}, expected ${count}`);
  return { ms, calls, submitMs: Number(/submitted in (\d+) ms/.exec(output)?.[1]), perCall: await jobsPerOarstat(label) };
}

// ---------------------------------------------------------------------------
// Helpers

/** A project folder with a settings file declaring the `bench` oar launcher; its workspace is `<project>/ws`. */
async function oarProject(label, { pollInterval, extra }) {
  const project = join(scratch, label);
  await mkdir(project);
  const { resources, walltime } = RESOURCES;
  const more = [pollInterval === undefined ? '' : `, pollInterval: ${pollInterval}`, extra ? `, ${extra}` : ''].join('');
  await writeFile(
    join(project, 'baton.config.yaml'),
    `plugins: [oar]
workspaces:
  - id: bench
    path: ./ws
    launcher: bench
    launchers:
      bench: { use: oar, resources: '${resources}', walltime: '${walltime}'${more} }
`,
  );
  return project;
}

/** Runs `once` `repeats` times and keeps every figure. */
async function measure(name, options, once) {
  const runs = [];
  for (let run = 0; run < repeats; run++) {
    const result = await once(run);
    runs.push(result);
    const submitted = result.submitMs === undefined ? '' : `, submitted in ${format(result.submitMs)}`;
    const asked = result.perCall.calls ? `, oarstat asked about up to ${result.perCall.most} jobs at once` : '';
    note(`  ${name}: run ${run + 1}: ${format(result.ms)}${submitted}, calls ${callsText(result.calls)}${asked}`);
  }
  return { name, runs, ...options };
}


/** A run that failed half-way must not leave its jobs in the queue. */
async function cancelLeftovers() {
  const listed = spawnSync('oarstat', ['-J', '-u', process.env.USER ?? ''], { encoding: 'utf8', timeout: 30_000 });
  let current = {};
  try {
    current = JSON.parse(listed.stdout || '{}');
  } catch {
    return;
  }
  const ids = Object.entries(current)
    .filter(([, job]) => job.name === SHELL_JOB_NAME || String(job.name).startsWith('bench-echo'))
    .map(([id]) => id);
  if (ids.length === 0) return;
  note(`cancelling ${ids.length} benchmark job(s) still in the queue`);
  spawnSync('oardel', ids, { stdio: 'inherit', timeout: 30_000 });
}

/** The wrappers first on the PATH; no settings file or workspace of the user leaks in. */
function benchEnv(callsFile) {
  return {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    BATON_BENCH_CALLS: callsFile,
    NO_COLOR: '1',
    BATON_WORKSPACE: '',
    XDG_CONFIG_HOME: scratch,
  };
}

function printTable(results) {
  const peer = results.find((row) => row.peer);
  const lines = [
    '| measurement | median | min | runs | oarsub | oarstat | oardel | jobs per oarstat call (most, mean) | vs shell loop |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    const med = median(row.runs.map((run) => run.ms));
    // Call counts: the median run's (by wall time), so the columns add up.
    const typical = [...row.runs].sort((a, b) => a.ms - b.ms)[Math.floor((row.runs.length - 1) / 2)];
    const perCall = typical.perCall.calls ? `${typical.perCall.most}, ${typical.perCall.mean.toFixed(1)}` : '';
    const ratio = peer && !row.peer && row.jobs === peer.jobs ? `${(med / median(peer.runs.map((run) => run.ms))).toFixed(2)}×` : '';
    const counts = COMMANDS.map((name) => typical.calls[name]);
    lines.push(`| ${row.name} | ${format(med)} | ${format(Math.min(...row.runs.map((run) => run.ms)))} | ${row.runs.length} | ${counts.join(' | ')} | ${perCall} | ${ratio} |`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  process.stdout.write(
    '\njobs per oarstat call: the `-j` ids of each oarstat call, counted by its wrapper (Baton: `oarstat -f -J -j ...` for all its unfinished jobs, one call per poll; the shell loop: `oarstat -s -j ...` for all its jobs, one call per second). Calls that ask about every job at once keep the count per poll at one, whatever the number of jobs.\n',
  );
}


/**
 * oarstat's wrapper also appends, per call, how many jobs it asks about (its `-j` ids) to
 * `$BATON_BENCH_CALLS.jobs`: what shows that a poll is one call for all jobs, not one per job.
 */
async function countJobsPerOarstat(directory) {
  const real = await which('oarstat');
  const path = join(directory, 'oarstat');
  await writeFile(
    path,
    `#!/bin/sh\necho oarstat >>"$BATON_BENCH_CALLS"\nn=0\nfor arg in "$@"; do [ "$arg" = -j ] && n=$((n + 1)); done\necho "$n" >>"$BATON_BENCH_CALLS.jobs"\nexec ${real} "$@"\n`,
  );
  await chmod(path, 0o755);
}

/** The `-j` counts oarstat's wrapper logged for one run: calls with ids, most and mean ids per call. */
async function jobsPerOarstat(label) {
  const text = await readFile(join(scratch, `${label}.calls.jobs`), 'utf8').catch(() => '');
  const counts = text.split('\n').filter(Boolean).map(Number).filter((count) => count > 0);
  const most = Math.max(0, ...counts);
  return { calls: counts.length, most, mean: counts.length ? counts.reduce((sum, count) => sum + count, 0) / counts.length : 0 };
}

function clusterText() {
  const version = spawnSync('oarstat', ['-V'], { encoding: 'utf8' }).stdout.trim();
  const resources = spawnSync('oarnodes', ['-s'], { encoding: 'utf8' }).stdout.split('\n').filter((line) => /Alive/.test(line)).length;
  return `${version || 'OAR'}, ${resources} resources alive`;
}

/** A timed run with this benchmark's scheduler commands counted. */
function timedRun(command, { label, cwd = ROOT }) {
  return timed(command, { label, cwd, scratch, commands: COMMANDS, env: benchEnv });
}
