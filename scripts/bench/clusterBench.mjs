// Helpers the cluster benchmarks (bench-slurm, bench-oar) share: scheduler commands
// counted through wrappers on the PATH, timed runs, and checks that every job ran.
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { which } from 'zx';

/**
 * Scripts named after each scheduler command, to put first on the PATH: each appends its
 * name to the file in $BATON_BENCH_CALLS and execs the real command. This counts the calls
 * of the real CLI (and of a shell loop) without changing any code.
 */
export async function commandWrappers(directory, commands, installHint) {
  await mkdir(directory, { recursive: true });
  for (const name of commands) {
    const real = await which(name, { nothrow: true });
    if (!real) throw new Error(`${name} is not on the PATH; ${installHint}`);
    const path = join(directory, name);
    await writeFile(path, `#!/bin/sh\necho ${name} >>"$BATON_BENCH_CALLS"\nexec ${real} "$@"\n`);
    await chmod(path, 0o755);
  }
  return directory;
}

/**
 * Wall time of a command from spawn to exit, in ms, with the scheduler calls it made (counted
 * in `<scratch>/<label>.calls` by the wrappers); fails unless it exits 0.
 * `env(callsFile)` gives the command's environment.
 */
export async function timed(command, { label, cwd, scratch, commands, env }) {
  const callsFile = join(scratch, `${label}.calls`);
  await writeFile(callsFile, '');
  const { ms, output } = await new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command[0], command.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: env(callsFile) });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${label}: ${command.join(' ').slice(0, 200)} exited with ${code}:\n${output}`));
      resolve({ ms, output });
    });
  });
  const calls = Object.fromEntries(commands.map((name) => [name, 0]));
  for (const line of (await readFile(callsFile, 'utf8')).split('\n')) if (line) calls[line]++;
  return { ms, calls, output };
}

/** Every job of task `taskId` must have run: one done marker per job directory. Returns their process.json handles. */
export async function checkDone(workspace, count, taskId = 'bench-echo') {
  const base = join(workspace, 'jobs', taskId);
  const hashes = await readdir(base);
  const markers = await Promise.all(hashes.map((hash) => readdir(join(base, hash)).then((names) => names.includes('done'))));
  const done = markers.filter(Boolean).length;
  if (hashes.length !== count || done !== count) throw new Error(`${workspace}: ${done} done of ${hashes.length} job directories, expected ${count}`);
  return Promise.all(hashes.map(async (hash) => JSON.parse(await readFile(join(base, hash, 'process.json'), 'utf8'))));
}

export function callsText(calls) {
  return Object.keys(calls)
    .filter((name) => calls[name] > 0)
    .map((name) => `${name} ${calls[name]}`)
    .join(', ');
}

export function loadText() {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}
