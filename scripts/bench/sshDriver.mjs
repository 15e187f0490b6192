// SSH benchmark driver: N trivial command jobs (`echo i`, task `echo`, as in
// trivial.ts) through the core API, in a workspace on a remote host, run by the
// workspace's `pool` launcher (ssh-pool). The project folder's settings file
// (written by bench-ssh.mjs) declares the ssh connector, the workspace and the
// launcher. Besides times, it reports what the CLI cannot: the connector's own
// statistics (SSH connections opened, most channels open at once), how many
// times Baton called each connector method, how many remote commands (exec
// channels) that made, and the scheduler's status polls.
// Plain JavaScript, as a built project runs: @baton/core and the plugin are their dist/ files.
// Run: node scripts/bench/sshDriver.mjs --count 200 --config-dir DIR [--launcher pool]
//      node scripts/bench/sshDriver.mjs --count 50 --config-dir DIR --round-trips
// Prints one JSON line on stdout.
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

// performance.now() counts from process start: this is what Node costs before our first line.
const startupMs = performance.now();

const { values } = parseArgs({
  options: { count: { type: 'string' }, 'config-dir': { type: 'string' }, launcher: { type: 'string', default: 'pool' }, 'round-trips': { type: 'boolean', default: false } },
});
const count = Number(values.count);
const configDir = values['config-dir'];
if (!Number.isInteger(count) || count <= 0 || !configDir) {
  process.stderr.write('usage: node scripts/bench/sshDriver.mjs --count N --config-dir DIR [--launcher NAME] [--round-trips]\n');
  process.exit(2);
}
const importStart = performance.now();
const { defineTask, experiment, openWorkspace } = await import('@baton/core');
const { z } = await import('zod');
const importMs = performance.now() - importStart;

// The task of trivial.ts, defined here so that no TypeScript loader is needed.
const echoTask = defineTask({
  id: 'echo',
  params: z.object({ i: z.number().int() }),
  command: (params) => ['echo', String(params.i)],
});

// The workspace is opened first, so that its connector can be watched before the experiment uses it.
const openStart = performance.now();
const workspace = await openWorkspace({ configDir, cwd: configDir, experimentId: 'bench-ssh' });
const openWorkspaceMs = performance.now() - openStart;
const { connector } = workspace;
if (connector.kind !== 'ssh' || typeof connector.stats !== 'object') {
  process.stderr.write(`the workspace of ${configDir} is not on an ssh connector (kind ${connector.kind})\n`);
  process.exit(2);
}
const launcher = workspace.launchers.get(values.launcher);
if (!launcher) {
  process.stderr.write(`the settings in ${configDir} declare no launcher named "${values.launcher}"\n`);
  process.exit(2);
}
if (values['round-trips']) {
  process.stdout.write(`${JSON.stringify(await roundTrips(connector, workspace.path, count))}\n`);
  await workspace.close();
  process.exit(0);
}
const calls = countConnectorCalls(connector);
// The scheduler's status polls: this one launcher's status() wrapped.
let polls = 0;
let largestPoll = 0;
const status = launcher.status.bind(launcher);
launcher.status = (handles) => {
  polls++;
  largestPoll = Math.max(largestPoll, handles.length);
  return status(handles);
};

const experimentStart = performance.now();
const xp = await experiment({ name: 'bench-ssh', openedWorkspace: workspace });
const openExperimentMs = performance.now() - experimentStart;

let firstDoneMs;
xp.events.on('job-state', (event) => {
  if (event.state === 'done') firstDoneMs ??= performance.now() - experimentStart;
});

const submitStart = performance.now();
for (let i = 1; i <= count; i++) xp.submit(echoTask, { i });
const summary = await xp.wait();
const waitMs = performance.now() - submitStart;
const closeStart = performance.now();
await xp.close();
const closeMs = performance.now() - closeStart;
const counted = calls.snapshot();

// Outside the clock: every job's done marker is on the host.
const markers = await connector.run(['/bin/sh', '-c', 'ls -d "$1"/jobs/echo/*/done 2>/dev/null | wc -l', 'sh', workspace.path]);
const doneMarkers = Number(markers.stdout.trim());
const stats = { ...connector.stats };
await workspace.close();

process.stdout.write(
  `${JSON.stringify({
    startupMs,
    importMs,
    // Settings, plugin, SSH connection, the workspace's folder on the host, the host's cores.
    openWorkspaceMs,
    openExperimentMs,
    // From the first submit() to wait() resolved: job folders, scripts, launches, polls.
    waitMs,
    closeMs,
    inProcessMs: openWorkspaceMs + openExperimentMs + waitMs + closeMs,
    firstDoneMs,
    done: summary.counts.done,
    failed: summary.counts.failed,
    failures: summary.failed.slice(0, 5).map((job) => ({ directory: job.directory, ...job.failure })),
    doneMarkers,
    workspacePath: workspace.path,
    connectionsOpened: stats.connectionsOpened,
    maxChannelsOpen: stats.maxChannelsOpen,
    // Connector calls made by Baton itself (core and launcher), from the experiment's opening on.
    connectorCalls: counted.calls,
    // Milliseconds from each of those calls to its result, summed per method (calls overlap: not a share of the wall time).
    connectorMs: counted.durations,
    // Remote commands (one exec channel each), those the connector's own methods made included.
    remoteCommands: counted.commands,
    polls,
    largestPoll,
  })}\n`,
);

/**
 * Wraps the connector's methods on this one object (the launcher and the
 * experiment hold the same object): counts the calls Baton makes, and every
 * `run`, the ones the connector makes for its other methods included (a
 * process check is one remote command). Calls made inside a counted call are
 * told apart through AsyncLocalStorage. Also sums, per method, the time from
 * each call to its result.
 */
function countConnectorCalls(target) {
  const inside = new AsyncLocalStorage();
  const counts = {};
  const durations = {};
  let commands = 0;
  const methods = ['run', 'spawnDetached', 'isProcessAlive', 'isProcessGroupAlive', 'killProcessGroup', 'readFile', 'readFileIfExists', 'writeFile', 'appendFile', 'mkdir', 'rename', 'exists', 'remove', 'rmdir', 'readdir', 'listDirectory', 'symlink', 'readlink', 'lock'];
  for (const name of methods) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = (...args) => {
      if (name === 'run') commands++;
      if (inside.getStore()) return original.apply(target, args);
      counts[name] = (counts[name] ?? 0) + 1;
      const started = performance.now();
      const settle = () => (durations[name] = (durations[name] ?? 0) + performance.now() - started);
      const result = inside.run(true, () => original.apply(target, args));
      if (typeof result?.finally === 'function') result.then(settle, settle);
      return result;
    };
  }
  return { snapshot: () => ({ calls: { ...counts }, durations: { ...durations }, commands }) };
}

/**
 * With --round-trips, no experiment: the latency of single connector calls, one
 * at a time, on the open connection (median and minimum of `count` each): an
 * SFTP stat (`exists`), an SFTP append, and a command (`true`, one exec channel).
 */
async function roundTrips(target, directory, count) {
  const time = async (call) => {
    const samples = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await call(i);
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    return { medianMs: samples[Math.floor(samples.length / 2)], minMs: samples[0] };
  };
  return {
    exists: await time(() => target.exists(`${directory}/nothing-here`)),
    appendFile: await time((i) => target.appendFile(`${directory}/round-trips.txt`, `${i}\n`)),
    run: await time(() => target.run(['true'])),
  };
}
