// `baton completion`: the scripts are valid for their shells, and bash, given a partial
// command line, completes it from the real baton (commands, options, workspace ids from the
// settings, job names from the workspace).
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATON_BIN, runBaton } from '../testing/runBaton.ts';

const TRAIN = '3fa2c1d0e4b5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f';
const EVAL = '9b8e7f6a5d4c3b2a190817263544536271809a0b1c2d3e4f5a6b7c8d9e0f1a2b';

let dir: string;
let bashScript: Promise<string> | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-cli-completion-'));
  await writeFile(join(dir, 'baton.config.yaml'), 'workspaces:\n  - id: main\n    path: ./ws\n  - id: scratch\n    path: ./scratch\n');
  await mkdir(join(dir, 'ws', 'jobs', 'train', TRAIN), { recursive: true });
  await mkdir(join(dir, 'ws', 'jobs', 'eval', EVAL), { recursive: true });
  await mkdir(join(dir, 'scratch'), { recursive: true });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('baton completion', () => {
  it.each(['bash', 'zsh', 'fish'])('prints a %s script that its shell reads without error', async (shell) => {
    const result = await runBaton(['completion', shell], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('__complete');
    if (!hasShell(shell)) {
      if (process.env.CI === 'true') throw new Error(`${shell} is not installed: CI installs it (apt-get install ${shell})`);
      console.log(`${shell} is not installed: its script is not checked (apt-get install ${shell} to check it)`);
      return;
    }
    const file = join(dir, `baton.${shell}`);
    await writeFile(file, result.stdout);
    const check = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('completes a partial command line in bash: commands, subcommands, options and choices', async () => {
    expect(await completeInBash(['j'])).toEqual(['jobs']);
    const commands = await completeInBash(['']);
    expect(commands).toEqual(expect.arrayContaining(['run-experiment', 'jobs', 'monitor', 'report', 'completion', 'help']));
    expect(commands).not.toContain('__complete');
    expect(await completeInBash(['jobs', ''])).toEqual(expect.arrayContaining(['list', 'log', 'kill', 'clean']));
    expect(await completeInBash(['jobs', 'list', '--st'])).toEqual(['--state']);
    expect(await completeInBash(['jobs', 'list', '--state', ''])).toEqual(['done', 'failed', 'running', 'queued', 'incomplete']);
    expect(await completeInBash(['help', 'jobs', 'l'])).toEqual(['list', 'log']);
  });

  it('completes workspace ids from the settings in force, and job names from the workspace', async () => {
    // Workspace ids from the settings file in force; `--workspace=s` as bash splits it.
    expect(await completeInBash(['jobs', 'log', '--workspace', ''])).toEqual(['main', 'scratch']);
    expect(await completeInBash(['jobs', 'list', '--workspace', '=', 's'])).toEqual(['scratch']);
    // Job names from the workspace: the default one, or the one the line names.
    expect((await completeInBash(['jobs', 'log', ''])).sort()).toEqual([`eval/${EVAL.slice(0, 12)}`, `train/${TRAIN.slice(0, 12)}`]);
    expect(await completeInBash(['jobs', 'kill', 'tr'])).toEqual([`train/${TRAIN.slice(0, 12)}`]);
    expect(await completeInBash(['jobs', 'kill', '--workspace', 'scratch', ''])).toEqual([]);
    expect(await completeInBash(['jobs', 'log', '--workdir', join(dir, 'ws'), 'ev'])).toEqual([`eval/${EVAL.slice(0, 12)}`]);
  });

  it('stays silent when the settings are broken, and refuses an unknown shell', async () => {
    await writeFile(join(dir, 'baton.config.yaml'), 'workspaces: [oops\n');
    const result = await runBaton(['__complete', 'bash', '--', 'jobs', 'log', '--workspace', ''], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: 'values\n', stderr: '' });
    expect(await completeInBash(['jobs', 'log', ''])).toEqual([]);
    const unknown = await runBaton(['completion', 'tcsh'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('bash, zsh, fish');
  });
});

function hasShell(shell: string): boolean {
  return spawnSync(shell, ['-c', 'exit 0']).status === 0;
}

/**
 * Sources `baton completion bash` in bash, with `baton` the real command, sets COMP_WORDS and
 * COMP_CWORD as bash does for `baton <words>` (the last one being typed), calls the completion
 * function and returns COMPREPLY.
 */
async function completeInBash(words: string[]): Promise<string[]> {
  // The script as `baton completion bash` prints it, printed once.
  bashScript ??= runBaton(['completion', 'bash'], { cwd: tmpdir() }).then((result) => result.stdout);
  const scriptFile = join(dir, 'baton.bash');
  await writeFile(scriptFile, await bashScript);
  const script = [
    `baton() { ${JSON.stringify(process.execPath)} ${JSON.stringify(BATON_BIN)} "$@"; }`,
    `source ${JSON.stringify(scriptFile)}`,
    'COMP_WORDS=(baton "$@"); COMP_CWORD=$#',
    '_baton_completion',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bash', ...words], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, BATON_WORKSPACE: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0 || stderr !== '') reject(new Error(`bash exited ${code}: ${stderr}`));
      else resolve(stdout.split('\n').filter((line) => line !== ''));
    });
  });
}
