#!/usr/bin/env node
// SSH benchmark: N trivial command jobs on a remote host through Baton's ssh-pool
// launcher (the real CLI, and the core API through a driver that reads the ssh
// connector's statistics), against what one does with OpenSSH alone, in one run
// on the same loopback sshd: a sequential loop of `ssh host 'echo i'`, the same
// with the pool's concurrency (xargs -P), and GNU parallel --sshlogin (with a
// connection per job, and over one ControlMaster connection).
//   node scripts/bench-ssh.mjs [--jobs 200] [--repeats 3] [--max-concurrent 4] [--fast-poll 100]
//                              [--skip-cli] [--skip-controlmaster] [--no-install] [--keep] [--premake-task-folder]
// --premake-task-folder makes each remote workspace's jobs/echo before its run (outside the
// clock): the ssh connector's recursive mkdir can lose the race of the first jobs making it
// together ("mkdir .../jobs/echo: No such file (over SFTP)"); see docs/benchmarks.md.
// Needs the loopback sshd: bash scripts/sshd-loopback.sh start; and the built
// packages (pnpm run build). Prints a table of medians and minima, with the SSH
// connections and remote commands of each run; not a timed test. See docs/benchmarks.md.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv, which } from 'zx';
import { cpuModel, format, median } from './bench/figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BATON = join(ROOT, 'packages/cli/bin/baton.js');
const PLUGIN = join(ROOT, 'plugins/launcher-ssh/dist/index.js');
const FIXTURE = join(ROOT, 'scripts/bench/trivial.yaml');
const DRIVER = join(ROOT, 'scripts/bench/sshDriver.mjs');
const START_HINT = 'start it with: bash scripts/sshd-loopback.sh start';
/** The Host alias of the loopback servers' ssh_config that reaches the main server. */
const ALIAS = 'baton-loopback';

const jobs = Number(argv.jobs ?? 200);
const repeats = Number(argv.repeats ?? 3);
const maxConcurrent = Number(argv['max-concurrent'] ?? 4);
const fastPoll = Number(argv['fast-poll'] ?? 100);
const note = (line) => process.stderr.write(`${line}\n`);

// One line and exit 2 when the servers are not there: nothing else can be measured.
const sshd = await probeLoopbackSsh(process.env.BATON_SSHD_DIR ?? '/tmp/baton-sshd');
if (sshd.problem) {
  note(`no loopback sshd: ${sshd.problem}; ${START_HINT}`);
  process.exit(2);
}
for (const [file, fix] of [
  [PLUGIN, 'pnpm run build'],
  [join(ROOT, 'packages/core/dist/index.js'), 'pnpm run build'],
]) {
  if (!existsSync(file)) {
    note(`${file} is missing; run \`${fix}\` first (the benchmark runs the built packages)`);
    process.exit(2);
  }
}

const scratch = await mkdtemp(join(tmpdir(), 'baton-bench-ssh-'));
/** A folder of the host (here this machine, as the test user) that holds every remote workspace of this run. */
const remoteBase = `/tmp/baton-bench-ssh-${randomBytes(4).toString('hex')}`;
const bin = await sshWrapper(join(scratch, 'bin'));
const rows = [];

note(`machine: ${availableParallelism()} cores, ${cpuModel()}, node ${process.version}, load ${loadText()}`);
note(`sshd: ${sshd.banner} on ${sshd.host}:${sshd.port} (${ALIAS}), client ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}`);
if (argv['premake-task-folder']) note('--premake-task-folder: each remote workspace gets its jobs/echo folder before the run, outside the clock');
if (loadavg()[0] > 0.5) note('warning: the machine is busy (load > 0.5); figures will be noisy, rerun when it is quieter');
note(`scratch: ${scratch}; remote workspaces under ${remoteBase} on the host`);

let succeeded = false;
try {
  const made = sshShell(`mkdir -p -- ${remoteBase} && test -w ${remoteBase}`);
  if (made.status !== 0) throw new Error(`cannot make ${remoteBase} on the host as ${sshd.user}: ${made.stderr.trim()}`);

  const latency = await roundTrips();
  note(`one call at a time on Baton's open connection (median of 50, min): ${roundTripText(latency)}`);

  // Rounds: each contender once per round, so that a burst of load (or another
  // user of the sshd) touches every row alike, and a failed round leaves every row measured as often.
  const pool = `ssh-pool, maxConcurrent ${maxConcurrent}`;
  const contenders = [
    ...(argv['skip-cli'] ? [] : [{ name: `baton run-experiment, ${jobs} jobs (${pool}, pollInterval 1 s, default)`, baton: true, once: (run) => batonCli({ label: `cli-${run}` }) }]),
    { name: `driver (core API), ${jobs} jobs (${pool}, pollInterval 1 s)`, baton: true, once: (run) => batonDriver({ label: `driver-${run}` }) },
    {
      name: `driver (core API), ${jobs} jobs (${pool}, pollInterval ${format(fastPoll)})`,
      baton: true,
      once: (run) => batonDriver({ label: `driver-fast-${run}`, pollInterval: fastPoll }),
    },
    { name: `ssh loop: ${jobs} × ssh ${ALIAS} 'echo i', one after another`, peer: 'loop', once: (run) => peer(`loop-${run}`, loopScript()) },
    { name: `xargs -P${maxConcurrent} ssh ${ALIAS} 'echo i'`, peer: 'xargs', once: (run) => peer(`xargs-${run}`, xargsScript()) },
  ];
  if (await ensureParallel()) {
    contenders.push({ name: `GNU parallel -S ${maxConcurrent}/${ALIAS} 'echo i'`, peer: 'parallel', once: (run) => peer(`parallel-${run}`, parallelScript()) });
    if (!argv['skip-controlmaster']) {
      contenders.push({
        name: `GNU parallel -S ${maxConcurrent}/${ALIAS}, over one OpenSSH ControlMaster connection`,
        once: (run) => peer(`parallel-cm-${run}`, parallelScript({ controlPath: join(scratch, `cm-${run}-%C`) })),
      });
    }
  }
  for (const { once: _once, ...row } of contenders) rows.push({ ...row, runs: [] });
  for (let run = 0; run < repeats; run++) {
    for (const [index, contender] of contenders.entries()) await measure(rows[index], run, contender.once);
  }

  printTable(rows);
  process.stdout.write(`\nround trips of Baton's ssh connector, one call at a time on its open connection (median of 50, min): ${roundTripText(latency)}\n`);
  note(`load at the end: ${loadText()}`);
  succeeded = true;
} finally {
  // Another user of the same sshd (a test that drops connections, say) can end a run: keep what was measured.
  if (!succeeded && rows.some((row) => row.runs.length > 0)) {
    note('a run failed (below); what was measured before it:');
    printTable(rows.filter((row) => row.runs.length > 0));
  }
  if (argv.keep || !succeeded) {
    note(`kept ${scratch}, and ${remoteBase} on the host${succeeded ? '' : ' for inspection'}; remove the latter with: ssh -F ${sshd.config} ${ALIAS} rm -rf ${remoteBase}`);
  } else {
    const removed = sshShell(`rm -rf -- ${remoteBase}`);
    if (removed.status !== 0) note(`could not remove ${remoteBase} on the host: ${removed.stderr.trim()}`);
    await rm(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// The contenders. Each returns { ms, sshProcesses, connections, ...more figures }.

/** The real `baton` command, on a fresh project whose workspace is a new folder of the host. */
async function batonCli({ label }) {
  const { project, workspace } = await sshProject(label, {});
  const result = await timed(['node', BATON, 'run-experiment', '--config-dir', project, FIXTURE, '-c', `count=${jobs}`], { label });
  if (!result.output.includes(`${jobs} done`)) throw new Error(`${label}: the summary does not say "${jobs} done":\n${result.output}`);
  await checkRemoteDone(workspace, label);
  // The CLI cannot tell its connections; the driver rows can.
  return { ...result, connections: undefined };
}

/** The same experiment through the core API (scripts/bench/sshDriver.mjs): adds the connector's figures. */
async function batonDriver({ label, pollInterval }) {
  const { project, workspace } = await sshProject(label, { pollInterval });
  const result = await timed(['node', DRIVER, '--count', String(jobs), '--config-dir', project], { label });
  const figures = JSON.parse(result.output.trim().split('\n').pop());
  if (figures.done !== jobs || figures.doneMarkers !== jobs) {
    throw new Error(`${label}: ${figures.done} of ${jobs} jobs done, ${figures.doneMarkers} done markers on the host:\n${result.output}`);
  }
  if (figures.workspacePath !== workspace) throw new Error(`${label}: the driver ran in ${figures.workspacePath}, not ${workspace}`);
  return {
    ...result,
    connections: figures.connectionsOpened,
    inProcessMs: figures.inProcessMs,
    openMs: figures.openWorkspaceMs,
    waitMs: figures.waitMs,
    remoteCommands: figures.remoteCommands,
    connectorCalls: figures.connectorCalls,
    connectorMs: figures.connectorMs,
    maxChannelsOpen: figures.maxChannelsOpen,
    polls: figures.polls,
  };
}

/** The latency of single connector calls on an open connection (sshDriver.mjs --round-trips), in a workspace of its own. */
async function roundTrips() {
  const label = 'round-trips';
  const { project } = await sshProject(label, {});
  const { output } = await timed(['node', DRIVER, '--count', '50', '--config-dir', project, '--round-trips'], { label });
  return JSON.parse(output.trim().split('\n').pop());
}

function roundTripText(figures) {
  return Object.entries(figures)
    .map(([name, { medianMs, minMs }]) => `${name} ${medianMs.toFixed(1)} ms (${minMs.toFixed(1)})`)
    .join(', ');
}

/** A shell script with `ssh` from the wrapper folder first on its PATH; its stdout must have one line per job. */
async function peer(label, script) {
  const result = await timed(['sh', '-c', `{\n${script}\n} >${join(scratch, `${label}.out`)}`], { label });
  const lines = (await readFile(join(scratch, `${label}.out`), 'utf8')).split('\n').filter(Boolean);
  const expected = Array.from({ length: jobs }, (_, index) => String(index + 1));
  if (lines.length !== jobs || [...lines].sort().join() !== [...expected].sort().join()) {
    throw new Error(`${label}: ${lines.length} lines of output, expected ${jobs} (echo 1..${jobs}):\n${result.output}`);
  }
  return { ...result, remoteCommands: jobs };
}

function loopScript() {
  return `i=1; while [ "$i" -le ${jobs} ]; do ssh -F ${sshd.config} ${ALIAS} "echo $i" || exit 1; i=$((i + 1)); done`;
}

function xargsScript() {
  return `seq ${jobs} | xargs -P${maxConcurrent} -I{} ssh -F ${sshd.config} ${ALIAS} 'echo {}'`;
}

/**
 * GNU parallel running each job on the host with `ssh -F <config>` (at most
 * maxConcurrent at once there). With a control path: one master connection,
 * opened first (as Baton connects before its first job) and closed at the end,
 * which every job's ssh goes through.
 */
function parallelScript({ controlPath } = {}) {
  const ssh = `ssh -F ${sshd.config}${controlPath ? ` -o ControlMaster=auto -o ControlPath=${controlPath} -o ControlPersist=yes` : ''}`;
  const run = `seq ${jobs} | parallel --will-cite --halt now,fail=1 --ssh '${ssh}' -S ${maxConcurrent}/${ALIAS} 'echo {}'`;
  if (!controlPath) return run;
  // The master must go whatever happens: it is a background process of ours.
  return `${ssh} ${ALIAS} true || exit 1; ${run}; status=$?; ${ssh} -O exit ${ALIAS} 2>/dev/null; exit $status`;
}

// ---------------------------------------------------------------------------
// Helpers

/**
 * The loopback servers' values from their env file, when the main server
 * answers with an SSH banner and the real ssh client gets in with its config.
 */
async function probeLoopbackSsh(directory) {
  const envFile = join(directory, 'env');
  let values;
  try {
    values = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes('=') && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  } catch {
    return { problem: `no ${envFile}` };
  }
  const missing = ['BATON_SSH_HOST', 'BATON_SSH_PORT', 'BATON_SSH_USER', 'BATON_SSH_KEY', 'BATON_SSH_KNOWN_HOSTS', 'BATON_SSH_CONFIG'].filter((name) => !values[name]);
  if (missing.length > 0) return { problem: `${envFile} has no ${missing.join(', ')}` };
  const found = {
    host: values.BATON_SSH_HOST,
    port: Number(values.BATON_SSH_PORT),
    user: values.BATON_SSH_USER,
    key: values.BATON_SSH_KEY,
    knownHosts: values.BATON_SSH_KNOWN_HOSTS,
    config: values.BATON_SSH_CONFIG,
  };
  const banner = await readBanner(found.host, found.port);
  if (!banner.startsWith('SSH-2.0-')) return { problem: `no sshd answers on ${found.host}:${found.port} (${banner || 'no banner'})` };
  const tried = spawnSync('ssh', ['-F', found.config, ALIAS, 'true'], { encoding: 'utf8', timeout: 30_000 });
  if (tried.error) return { problem: `ssh ${ALIAS} could not run (${tried.error.message})` };
  if (tried.status !== 0) return { problem: `\`ssh -F ${found.config} ${ALIAS} true\` failed: ${tried.stderr.trim().split('\n').pop() || `exit ${tried.status}`}` };
  return { ...found, banner };
}

/** The first line the server sends (`SSH-2.0-OpenSSH_...`), or '' when nothing answers within 3 s. */
function readBanner(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    const done = (banner) => {
      socket.destroy();
      resolve(banner);
    };
    socket.setTimeout(3000, () => done(received.trim()));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\n')) done(received.slice(0, received.indexOf('\n')).trim());
    });
    socket.on('error', (error) => done(error.code ?? error.message));
    socket.on('end', () => done(received.trim()));
  });
}

/** A project folder whose settings put workspace `remote` at a new folder of the host, with the `pool` ssh-pool launcher. */
async function sshProject(label, { pollInterval }) {
  const project = join(scratch, label);
  const workspace = `${remoteBase}/${label}`;
  await mkdir(project);
  const connector = { use: 'ssh', host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.key, knownHostsFile: sshd.knownHosts, configFile: false };
  const launcher = { use: 'ssh-pool', maxConcurrent, ...(pollInterval === undefined ? {} : { pollInterval }) };
  await writeFile(
    join(project, 'baton.config.yaml'),
    [
      `plugins: [${JSON.stringify(PLUGIN)}]`,
      'connectors:',
      `  box: ${JSON.stringify(connector)}`,
      'workspaces:',
      '  - id: remote',
      `    path: ${JSON.stringify(workspace)}`,
      '    connector: box',
      '    launcher: pool',
      '    launchers:',
      `      pool: ${JSON.stringify(launcher)}`,
      '',
    ].join('\n'),
  );
  if (argv['premake-task-folder']) {
    const made = sshShell(`mkdir -p -- ${workspace}/jobs/echo`);
    if (made.status !== 0) throw new Error(`${label}: cannot make ${workspace}/jobs/echo on the host: ${made.stderr.trim()}`);
  }
  return { project, workspace };
}

/** Every job must have run: one done marker per job directory, on the host. */
async function checkRemoteDone(workspace, label) {
  const listed = sshShell(`ls -d ${workspace}/jobs/echo/*/ | wc -l; ls -d ${workspace}/jobs/echo/*/done | wc -l`);
  const [directories, done] = listed.stdout.trim().split('\n').map(Number);
  if (directories !== jobs || done !== jobs) throw new Error(`${label}: ${done} done of ${directories} job directories in ${workspace} on the host, expected ${jobs}`);
}

/**
 * A script named `ssh` first on the PATH: it appends a line to the file in
 * $BATON_BENCH_SSH_CALLS and execs the real ssh with LogLevel VERBOSE into
 * $BATON_BENCH_SSH_LOG, where each new connection logs "Authenticated to"
 * (one going through a ControlMaster's socket does not). That counts the
 * peers' ssh processes and connections with no change to their commands.
 */
async function sshWrapper(directory) {
  const real = await which('ssh', { nothrow: true });
  if (!real) throw new Error('ssh is not on the PATH (apt-get install -y openssh-client)');
  await mkdir(directory, { recursive: true });
  const path = join(directory, 'ssh');
  await writeFile(path, `#!/bin/sh\necho ssh >>"$BATON_BENCH_SSH_CALLS"\nexec ${real} -o LogLevel=VERBOSE -E "$BATON_BENCH_SSH_LOG" "$@"\n`);
  await chmod(path, 0o755);
  return directory;
}

/** Runs a shell command on the host with the real ssh client (setting up and cleaning up, outside the clock). */
function sshShell(command) {
  return spawnSync('ssh', ['-F', sshd.config, ALIAS, command], { encoding: 'utf8', timeout: 120_000 });
}

/** Wall time of a command from spawn to exit, in ms, with the ssh processes and connections it made; fails unless it exits 0. */
async function timed(command, { label }) {
  const callsFile = join(scratch, `${label}.ssh-calls`);
  const logFile = join(scratch, `${label}.ssh-log`);
  await writeFile(callsFile, '');
  await writeFile(logFile, '');
  const { ms, output } = await new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: benchEnv(callsFile, logFile) });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${label}: ${command.join(' ').slice(0, 300)} exited with ${code}:\n${output.slice(-4000)}`));
      resolve({ ms, output });
    });
  });
  const sshProcesses = (await readFile(callsFile, 'utf8')).split('\n').filter(Boolean).length;
  const connections = (await readFile(logFile, 'utf8')).split('\n').filter((line) => line.startsWith('Authenticated to')).length;
  return { ms, output, sshProcesses, connections };
}

/** Runs `once` for round `run` and adds its figures to the row. */
async function measure(row, run, once) {
  const result = await once(run);
  row.runs.push(result);
  const more = [
    result.openMs === undefined ? '' : `, open ${format(result.openMs)} + submit-to-done ${format(result.waitMs)}`,
    result.connections === undefined ? '' : `, ${result.connections} SSH connection(s)`,
    result.remoteCommands === undefined ? '' : `, ${result.remoteCommands} remote commands`,
    result.maxChannelsOpen === undefined ? '' : `, at most ${result.maxChannelsOpen} channels open`,
    result.polls === undefined ? '' : `, ${result.polls} polls`,
    result.sshProcesses ? `, ${result.sshProcesses} ssh processes` : '',
  ].join('');
  note(`  ${row.name}: run ${run + 1}: ${format(result.ms)}${more}`);
}

/** GNU parallel on PATH, installed from Debian when missing and apt-get can; false with a note otherwise. */
async function ensureParallel() {
  if (await which('parallel', { nothrow: true })) return true;
  if (argv.install === false) {
    note('GNU parallel is not installed (--no-install): its rows are skipped');
    return false;
  }
  note('GNU parallel is not installed: apt-get update && apt-get install -y parallel ...');
  const installed = spawnSync('sh', ['-c', '(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y parallel) >/dev/null 2>&1'], { timeout: 600_000 });
  if (installed.status === 0 && (await which('parallel', { nothrow: true }))) return true;
  note('GNU parallel could not be installed: its rows are skipped');
  return false;
}

/** The wrapper first on the PATH; no settings file, workspace or agent of the user leaks in. */
function benchEnv(callsFile, logFile) {
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    BATON_BENCH_SSH_CALLS: callsFile,
    BATON_BENCH_SSH_LOG: logFile,
    NO_COLOR: '1',
    BATON_WORKSPACE: '',
    HOME: scratch,
    XDG_CONFIG_HOME: scratch,
  };
  // Both sides authenticate with the key file alone.
  delete env.SSH_AUTH_SOCK;
  return env;
}

function printTable(results) {
  const peers = ['loop', 'xargs', 'parallel'].map((kind) => results.find((row) => row.peer === kind));
  const lines = [
    `| measurement | median | min | runs | in-process (median) | SSH connections | remote commands | per job | polls | vs ssh loop | vs xargs -P${maxConcurrent} | vs GNU parallel |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    const med = median(row.runs.map((run) => run.ms));
    // Counts: the median run's (by wall time), so that they go with its time.
    const typical = [...row.runs].sort((a, b) => a.ms - b.ms)[Math.floor((row.runs.length - 1) / 2)];
    const inProcess = typical.inProcessMs === undefined ? '' : format(median(row.runs.map((run) => run.inProcessMs)));
    const connections = typical.connections ?? '';
    const commands = typical.remoteCommands ?? '';
    const perJob = commands === '' ? '' : (commands / jobs).toFixed(1);
    const ratios = peers.map((peer) => (peer && row.baton ? `${(med / median(peer.runs.map((run) => run.ms))).toFixed(2)}×` : ''));
    lines.push(
      `| ${row.name} | ${format(med)} | ${format(Math.min(...row.runs.map((run) => run.ms)))} | ${row.runs.length} | ${inProcess} | ${connections} | ${commands} | ${perJob} | ${typical.polls ?? ''} | ${ratios.join(' | ')} |`,
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  const driver = results.find((row) => row.runs[0]?.connectorCalls);
  if (driver) {
    const typical = [...driver.runs].sort((a, b) => a.ms - b.ms)[Math.floor((driver.runs.length - 1) / 2)];
    const calls = Object.entries(typical.connectorCalls)
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => `${name} ${count} (${format(typical.connectorMs?.[name] ?? 0)})`)
      .join(', ');
    process.stdout.write(
      `\nconnector calls by Baton, ${driver.name} (median run), with the time from call to result summed (calls overlap): ${calls}; at most ${typical.maxChannelsOpen} channels open at once\n`,
    );
  }
  process.stdout.write(
    '\nSSH connections: Baton\'s from its ssh connector (stats.connectionsOpened), the peers\' from the ssh client\'s own log ("Authenticated to" lines). ' +
      'Remote commands: one exec channel (Baton) or one ssh command (peers) each; Baton\'s file work goes over one SFTP session besides.\n',
  );
}

function loadText() {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}
