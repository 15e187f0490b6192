// `baton jobs list` as people see it: fitted to the terminal's width, the directory only with
// --wide, plain ASCII without colors in a pipe, colors on a terminal unless NO_COLOR.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shellJoin } from '@baton/core';
import { BATON_BIN, runBaton } from '../testing/runBaton.ts';

const TASK = 'preprocess-the-imagenet-training-shards-with-heavy-augmentation';
const EXPERIMENT = 'hyperparameter-sweep-of-the-transformer-baseline-for-the-2026-paper';
const HASH = 'd4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3';
const OTHER = 'e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4';
// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[/;
// eslint-disable-next-line no-control-regex
const COLOR = /\u001b\[[0-9;]*m/;

let dir: string;
let workspace: string;
let directory: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-cli-jobs-list-'));
  workspace = join(dir, 'workspace');
  directory = join(workspace, 'jobs', TASK, HASH);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'failed'), JSON.stringify({ code: 3, reason: 'failed', message: 'exited with code 3 after writing a very long message about a missing file', start: 1796135000, end: 1796135002, host: 'gpu-node-17.cluster.example.org' }));
  const other = join(workspace, 'jobs', 'eval', OTHER);
  await mkdir(other, { recursive: true });
  await writeFile(join(other, 'done'), JSON.stringify({ code: 0, start: 1796135000, end: 1796135065, host: 'node2' }));
  const run = join(workspace, 'experiments', EXPERIMENT, 'run-1');
  await mkdir(run, { recursive: true });
  await writeFile(join(run, 'jobs.jsonl'), `${JSON.stringify({ taskId: TASK, hash: HASH })}\n${JSON.stringify({ taskId: 'eval', hash: OTHER })}\n`);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('baton jobs list output', () => {
  it('fits COLUMNS=80: no line longer, long names cut with an ellipsis, the hash kept; --wide prints the directory', async () => {
    const result = await runBaton(['jobs', 'list', '--workdir', workspace], { cwd: dir, env: { COLUMNS: '80' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^JOB\s+STATE\s+EXPERIMENT\s+DURATION/);
    const failed = lines.find((line) => line.includes(HASH.slice(0, 12)))!;
    // The job name keeps its hash (a ref `baton jobs log` takes), the names lose their ends.
    expect(failed).toMatch(new RegExp(`^\\.\\.\\.[a-z-]+/${HASH.slice(0, 12)}\\s+failed\\s+hyper[a-z-]*\\.\\.\\.\\s+2\\.0s`));
    expect(result.stdout).not.toContain(directory);
    expect(lines.find((line) => line.startsWith('eval/'))).toMatch(/^eval\/e5f60718293a\s+done\s+hyper.*1m05s/);

    const wide = await runBaton(['jobs', 'list', '--workdir', workspace, '--wide'], { cwd: dir, env: { COLUMNS: '80' } });
    expect(wide.stdout).toContain(directory);
    expect(wide.stdout).toContain(`${TASK}/${HASH.slice(0, 12)}`);
    expect(wide.stdout).toContain(EXPERIMENT);
  });

  it('off a terminal and without COLUMNS, cuts nothing (for grep and awk), in ASCII and without escape codes', async () => {
    const result = await runBaton(['jobs', 'list', '--workdir', workspace], { cwd: dir, env: { COLUMNS: '', NO_COLOR: '' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${TASK}/${HASH.slice(0, 12)}`);
    expect(result.stdout).toContain(EXPERIMENT);
    expect(result.stdout).toContain('exited with code 3 after writing a very long message about a missing file');
    expect(result.stdout).not.toMatch(ESCAPE);
    expect(result.stdout).toMatch(/^[\x20-\x7e\n]*$/);
  });

  it('FORCE_COLOR colors the states even in a pipe; FORCE_COLOR=0 does not', async () => {
    const forced = await runBaton(['jobs', 'list', '--workdir', workspace], { cwd: dir, env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain('\u001b[31mfailed');
    const off = await runBaton(['jobs', 'list', '--workdir', workspace], { cwd: dir, env: { FORCE_COLOR: '0' } });
    expect(off.stdout).not.toMatch(ESCAPE);
  });

  it.skipIf(process.platform !== 'linux')('on a terminal: colors and Unicode, fitted to its width; NO_COLOR takes the colors away', async () => {
    const colored = await inTerminal(['jobs', 'list', '--workdir', workspace], {});
    expect(colored).toMatch(COLOR);
    expect(colored).toContain('…');
    for (const line of colored.split(/\r?\n/)) expect(line.replace(new RegExp(COLOR.source, 'g'), '').length).toBeLessThanOrEqual(70);
    const plain = await inTerminal(['jobs', 'list', '--workdir', workspace], { NO_COLOR: '1' });
    expect(plain).toContain('failed');
    expect(plain).not.toMatch(ESCAPE);
  });
});

/** Runs baton in a pseudo-terminal 70 columns wide (util-linux `script`); returns what it printed. */
function inTerminal(args: string[], env: Record<string, string>): Promise<string> {
  const command = `stty cols 70 rows 40; exec ${shellJoin([process.execPath, BATON_BIN, ...args])}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, COLUMNS: undefined, TERM: 'xterm-256color', LANG: 'C.UTF-8', LC_ALL: undefined, LC_CTYPE: undefined, HOME: dir, XDG_CONFIG_HOME: dir, BATON_WORKSPACE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(output.trim()) : reject(new Error(`baton ${args.join(' ')} exited ${code}: ${output}`))));
  });
}
