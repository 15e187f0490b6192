#!/usr/bin/env node
// SLURM benchmark: N trivial jobs through Baton (the real CLI, and the core API
// through a driver) against a plain shell loop of `sbatch --wrap` plus waiting
// for them, on the same running cluster, in one run.
//   node scripts/bench-slurm.mjs [--jobs 200] [--small 50] [--repeats 3] [--fast-poll 1000] [--keep]
// Needs a running cluster: sudo bash scripts/slurm-cluster.sh start
// Prints a table of medians and minima, and how many scheduler commands each run
// made; not a timed test. See docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv } from 'zx';
import { callsText, checkDone, commandWrappers, loadText, timed } from './bench/clusterBench.mjs';
import { cpuModel, format, median } from './bench/figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BATON = join(ROOT, 'packages/cli/bin/baton.js');
const FIXTURE = join(ROOT, 'scripts/bench/slurm/trivial.yaml');
const DRIVER = join(ROOT, 'scripts/bench/slurm/driver.ts');
const COMMANDS = ['sbatch', 'sacct', 'squeue', 'scontrol', 'scancel'];
/** The SLURM job name of the shell loop's jobs; Baton's are `bench-echo-...` (the fixture's task id). */
const SHELL_JOB_NAME = 'baton-bench-shell';
/** The same resources for both sides: what the Baton launcher below asks for. */
const RESOURCES = { partition: 'debug', time: 10, cpusPerTask: 1 };

const jobs = Number(argv.jobs ?? 200);
const small = Number(argv.small ?? 50);
const repeats = Number(argv.repeats ?? 3);
const fastPoll = Number(argv['fast-poll'] ?? 1000);
const note = (line) => process.stderr.write(`${line}\n`);

if (spawnSync('sinfo', ['-h'], { timeout: 15_000, stdio: 'ignore' }).status !== 0) {
  note('no SLURM cluster answers `sinfo -h`; start one with: sudo bash scripts/slurm-cluster.sh start');
  process.exit(2);
}

const scratch = await mkdtemp(join(tmpdir(), 'baton-bench-slurm-'));
const bin = await commandWrappers(join(scratch, 'bin'), COMMANDS, 'is SLURM installed? (sudo bash scripts/slurm-cluster.sh start)');
const rows = [];

note(`machine: ${availableParallelism()} cores, ${cpuModel()}, node ${process.version}, load ${loadText()}`);
note(`cluster: ${clusterText()}`);
if (loadavg()[0] > 0.5) note('warning: the machine is busy (load > 0.5); figures will be noisy, rerun when it is quieter');
note(`scratch: ${scratch}`);

let succeeded = false;
try {
  rows.push(
    await measure(`baton run-experiment, ${jobs} jobs (pollInterval 5 s, default)`, { jobs }, (run) => batonCli({ label: `cli-${run}`, count: jobs })),
  );
  rows.push(
    await measure(`baton run-experiment, ${jobs} jobs (pollInterval ${format(fastPoll)})`, { jobs }, (run) =>
      batonCli({ label: `cli-fast-${run}`, count: jobs, pollInterval: fastPoll }),
    ),
  );
  rows.push(
    await measure(`baton run-experiment, ${jobs} jobs, no arrays (maxArraySize 1)`, { jobs }, (run) =>
      batonCli({ label: `cli-single-${run}`, count: jobs, extra: 'maxArraySize: 1' }),
    ),
  );
  rows.push(await measure(`driver (core API), ${jobs} jobs (pollInterval 5 s)`, { jobs }, (run) => batonDriver({ label: `driver-${run}`, count: jobs })));
  rows.push(await measure(`driver (core API), ${small} jobs (pollInterval 5 s)`, { jobs: small }, (run) => batonDriver({ label: `driver-small-${run}`, count: small })));
  rows.push(await measure(`shell loop: ${jobs} × sbatch --wrap, squeue every 1 s`, { jobs, peer: true }, (run) => shellLoop({ label: `shell-${run}`, count: jobs })));

  printTable(rows);
  note(`load at the end: ${loadText()}`);
  succeeded = true;
} finally {
  await cancelLeftovers();
  if (argv.keep || !succeeded) note(`kept ${scratch}${succeeded ? '' : ' for inspection'}`);
  else await rm(scratch, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// The three contenders. Each returns { ms, calls, ...more figures }.

/** The real `baton` command on a fresh project whose settings declare one slurm launcher. */
async function batonCli({ label, count, pollInterval, extra }) {
  const project = await slurmProject(label, { pollInterval, extra });
  const { ms, calls, output } = await timedRun(['node', BATON, 'run-experiment', '--config-dir', project, FIXTURE, '-c', `count=${count}`], { label });
  if (!output.includes(`${count} done`)) throw new Error(`${label}: the summary does not say "${count} done":\n${output}`);
  const clusterIds = (await checkDone(join(project, 'ws'), count)).map((handle) => handle.clusterId);
  return { ms, calls, slurmMs: slurmSpan(clusterIds) };
}

/** The same experiment through the core API (scripts/bench/slurm/driver.ts): adds polls and in-process time. */
async function batonDriver({ label, count }) {
  const project = await slurmProject(label, {});
  const { ms, calls, output } = await timedRun(['node', '--import', 'tsx', DRIVER, '--count', String(count), '--config-dir', project], { label });
  const figures = JSON.parse(output.trim().split('\n').pop());
  if (figures.done !== count) throw new Error(`${label}: ${figures.done} of ${count} jobs done:\n${output}`);
  // The launcher's own counts must agree with what the PATH wrappers saw.
  for (const name of COMMANDS) {
    if (figures.commands[name] !== calls[name]) throw new Error(`${label}: the launcher counted ${figures.commands[name]} ${name} calls, the wrapper ${calls[name]}`);
  }
  const clusterIds = (await checkDone(join(project, 'ws'), count)).map((handle) => handle.clusterId);
  return { ms, calls, inProcessMs: figures.waitMs, polls: figures.polls, largestPoll: figures.largestPoll, slurmMs: slurmSpan(clusterIds) };
}

/** What a user does by hand: sbatch in a loop, then squeue every second until none is left. */
async function shellLoop({ label, count }) {
  const directory = join(scratch, label);
  await mkdir(directory);
  const { partition, time, cpusPerTask } = RESOURCES;
  const script = `
started=$(date +%s%N)
ids=
i=1
while [ "$i" -le ${count} ]; do
  id=$(sbatch --parsable --job-name=${SHELL_JOB_NAME} --partition=${partition} --time=${time} --cpus-per-task=${cpusPerTask} --chdir=. --output=slurm-%j.out --wrap "echo $i") || exit 1
  ids="$ids\${ids:+,}$id"
  i=$((i + 1))
done
echo "$ids" >ids.txt
echo "submitted in $((($(date +%s%N) - started) / 1000000)) ms"
while :; do
  if left=$(squeue -h -o %i -j "$ids" 2>&1); then
    [ -z "$left" ] && break
  else
    # With every job purged from the controller, squeue fails this way: nothing is left.
    case "$left" in *"Invalid job id"*) break ;; esac
  fi
  sleep 1
done`;
  const { ms, calls, output } = await timedRun(['sh', '-c', script], { label, cwd: directory });
  const outputs = (await readdir(directory)).filter((name) => /^slurm-\d+\.out$/.test(name));
  if (outputs.length !== count) throw new Error(`${label}: ${outputs.length} job outputs in ${directory}, expected ${count}`);
  const clusterIds = (await readFile(join(directory, 'ids.txt'), 'utf8')).trim().split(',');
  return { ms, calls, submitMs: Number(/submitted in (\d+) ms/.exec(output)?.[1]), slurmMs: slurmSpan(clusterIds) };
}

// ---------------------------------------------------------------------------
// Helpers

/** A project folder with a settings file declaring the `bench` slurm launcher; its workspace is `<project>/ws`. */
async function slurmProject(label, { pollInterval, extra }) {
  const project = join(scratch, label);
  await mkdir(project);
  const { partition, time, cpusPerTask } = RESOURCES;
  const poll = [pollInterval === undefined ? '' : `, pollInterval: ${pollInterval}`, extra ? `, ${extra}` : ''].join('');
  await writeFile(
    join(project, 'baton.config.yaml'),
    `plugins: [slurm]
workspaces:
  - id: bench
    path: ./ws
    launcher: bench
    launchers:
      bench: { use: slurm, partition: ${partition}, time: ${time}, cpusPerTask: ${cpusPerTask}${poll} }
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
    const more = [
      result.inProcessMs === undefined ? '' : `, in-process ${format(result.inProcessMs)}`,
      result.polls === undefined ? '' : `, ${result.polls} polls (largest: ${result.largestPoll} jobs)`,
      result.submitMs === undefined ? '' : `, submitted in ${format(result.submitMs)}`,
      result.slurmMs === undefined ? '' : `, SLURM first submit to last end ${format(result.slurmMs)}`,
    ].join('');
    note(`  ${name}: run ${run + 1}: ${format(result.ms)}${more}, calls ${callsText(result.calls)}`);
  }
  return { name, runs, ...options };
}


/**
 * SLURM's own share of a run, from accounting: first submission to last end of
 * these jobs (1 s resolution). What a run takes beyond it is the submitter's.
 */
function slurmSpan(clusterIds) {
  const ids = [...new Set(clusterIds.map((id) => String(id).split('_')[0]))];
  const listed = spawnSync('sacct', ['-X', '-n', '-P', '-o', 'Submit,End', '-j', ids.join(','), '-S', 'now-1hour'], { encoding: 'utf8', timeout: 60_000 });
  if (listed.status !== 0) return undefined;
  let first = Infinity;
  let last = -Infinity;
  for (const line of listed.stdout.split('\n')) {
    const [submit, end] = line.split('|').map((text) => Date.parse(text));
    if (Number.isFinite(submit)) first = Math.min(first, submit);
    if (Number.isFinite(end)) last = Math.max(last, end);
  }
  return Number.isFinite(first) && Number.isFinite(last) ? last - first : undefined;
}

/** A run that failed half-way must not leave its jobs in the queue. */
async function cancelLeftovers() {
  const listed = spawnSync('squeue', ['--me', '-h', '-o', '%i|%j'], { encoding: 'utf8', timeout: 30_000 });
  const ids = (listed.stdout ?? '')
    .split('\n')
    .map((line) => line.split('|'))
    .filter(([id, name]) => id && (name === SHELL_JOB_NAME || name?.startsWith('bench-echo-')))
    .map(([id]) => id);
  if (ids.length === 0) return;
  note(`cancelling ${ids.length} benchmark job(s) still in the queue`);
  spawnSync('scancel', ids, { stdio: 'inherit', timeout: 30_000 });
}

/** The wrappers first on the PATH; no settings file or workspace of the user leaks in. */
function benchEnv(callsFile) {
  return {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    BATON_BENCH_CALLS: callsFile,
    NO_COLOR: '1',
    BATON_WORKSPACE: '',
    HOME: scratch,
    XDG_CONFIG_HOME: scratch,
  };
}

function printTable(results) {
  const peer = results.find((row) => row.peer);
  const lines = [
    '| measurement | median | min | runs | in-process (median) | SLURM span (median) | sbatch | sacct | squeue | scontrol | scancel | polls | status calls per poll | vs shell loop |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    const med = median(row.runs.map((run) => run.ms));
    const inProcess = row.runs[0].inProcessMs === undefined ? '' : format(median(row.runs.map((run) => run.inProcessMs)));
    const spans = row.runs.map((run) => run.slurmMs).filter((value) => value !== undefined);
    const span = spans.length > 0 ? format(median(spans)) : '';
    // Call counts: the median run's (by wall time), so the columns add up.
    const typical = [...row.runs].sort((a, b) => a.ms - b.ms)[Math.floor((row.runs.length - 1) / 2)];
    const polls = typical.polls ?? (row.peer ? undefined : typical.calls.sacct);
    const perPoll = polls ? ((typical.calls.sacct + typical.calls.squeue) / polls).toFixed(2) : '';
    const ratio = peer && !row.peer && row.jobs === peer.jobs ? `${(med / median(peer.runs.map((run) => run.ms))).toFixed(2)}×` : '';
    const counts = COMMANDS.map((name) => typical.calls[name]);
    lines.push(
      `| ${row.name} | ${format(med)} | ${format(Math.min(...row.runs.map((run) => run.ms)))} | ${row.runs.length} | ${inProcess} | ${span} | ${counts.join(' | ')} | ${polls ?? ''} | ${perPoll} | ${ratio} |`,
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  process.stdout.write(
    '\npolls: counted by the driver; for the CLI, sacct calls (one per poll with accounting on). status calls per poll: (sacct + squeue) / polls.\n' +
      "SLURM span: from the first job's submission to the last job's end, as sacct records them (1 s resolution); the rest of the wall time is the submitter's.\n",
  );
}


function clusterText() {
  const version = spawnSync('sinfo', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const nodes = spawnSync('sinfo', ['-h', '-N', '-o', '%N %c CPUs %T'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  const accounting = spawnSync('sacct', ['-n', '-X', '-j', '1'], { encoding: 'utf8' });
  return `${version}, node ${nodes}, accounting ${/disabled/i.test(accounting.stderr) ? 'off' : 'on'}`;
}

/** A timed run with this benchmark's scheduler commands counted. */
function timedRun(command, { label, cwd = ROOT }) {
  return timed(command, { label, cwd, scratch, commands: COMMANDS, env: benchEnv });
}
