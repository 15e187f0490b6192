import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import type { TokenHolder } from '../types.ts';
import { CounterToken } from './counterToken.ts';

const coreDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const contenderScript = join(coreDirectory, 'src/token/__fixtures__/tokenContender.ts');

let workspacePath: string;

beforeEach(async () => {
  workspacePath = await mkdtemp(join(tmpdir(), 'baton-token-'));
});

afterEach(async () => {
  await rm(workspacePath, { recursive: true, force: true });
});

function holder(hash: string, overrides: Partial<TokenHolder> = {}): TokenHolder {
  return { hash, directory: join(workspacePath, 'jobs', 'task', hash), pid: process.pid, host: hostname(), ...overrides };
}

describe('CounterToken', () => {
  it('hands out units up to its total, then refuses', async () => {
    const token = new CounterToken({ name: 'gpu', total: 3, workspacePath });
    expect(await token.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(true);
    expect(await token.tryAcquire(holder('c'), 1)).toBe(false);
    expect(await token.available()).toBe(0);

    const record = JSON.parse(await readFile(join(workspacePath, 'tokens/gpu/holders/a.json'), 'utf8'));
    expect(record).toMatchObject({ count: 2, pid: process.pid, host: hostname(), directory: holder('a').directory });
    expect(typeof record.acquiredAt).toBe('string');
  });

  it('frees the units of a released holder', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await token.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
    await token.release(holder('a'));
    expect(await token.available()).toBe(2);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(true);
    expect(await token.available()).toBe(1);
  });

  it('shares its state with every token object on the same workspace', async () => {
    const first = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const second = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await first.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await second.tryAcquire(holder('b'), 1)).toBe(false);
    expect(await second.available()).toBe(0);
  });

  it('lets a holder acquire again (re-attach, new pid) without counting its own share against it', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await token.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await token.tryAcquire(holder('a', { pid: process.ppid }), 2)).toBe(true);
    const record = JSON.parse(await readFile(join(workspacePath, 'tokens/gpu/holders/a.json'), 'utf8'));
    expect(record.pid).toBe(process.ppid);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
  });

  it('counts a holder whose process died on this host as free', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const pid = await deadPid();
    expect(await token.tryAcquire(holder('dead', { pid }), 2)).toBe(true);
    expect(await token.available()).toBe(2);
    expect(await token.tryAcquire(holder('b'), 2)).toBe(true);
    // The dead holder's file is cleaned up under the lock.
    expect(await readdir(join(workspacePath, 'tokens/gpu/holders'))).toEqual(['b.json']);
  });

  it('cannot judge a pid on another host, so keeps counting that holder', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const pid = await deadPid();
    expect(await token.tryAcquire(holder('remote', { pid, host: `not-${hostname()}` }), 2)).toBe(true);
    expect(await token.available()).toBe(0);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
  });

  it.each(['done', 'failed'])('counts a holder whose job wrote a `%s` marker as free', async (marker) => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const finished = holder('finished', { host: `not-${hostname()}` });
    expect(await token.tryAcquire(finished, 2)).toBe(true);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
    await mkdir(finished.directory, { recursive: true });
    await writeFile(join(finished.directory, marker), '');
    expect(await token.available()).toBe(2);
    expect(await token.tryAcquire(holder('b'), 2)).toBe(true);
  });

  it('rejects a request that could never be satisfied', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const attempt = token.tryAcquire(holder('a'), 3);
    await expect(attempt).rejects.toBeInstanceOf(UserInputError);
    await expect(token.tryAcquire(holder('a'), 3)).rejects.toMatchObject({
      where: 'token "gpu"',
      hint: expect.stringContaining('at most 2'),
    });
    await expect(token.tryAcquire(holder('a'), 0)).rejects.toBeInstanceOf(UserInputError);
  });

  it('rejects a total or a name it cannot use', () => {
    expect(() => new CounterToken({ name: 'gpu', total: -1, workspacePath })).toThrow(UserInputError);
    expect(() => new CounterToken({ name: '../gpu', total: 1, workspacePath })).toThrow(UserInputError);
  });

  it('takes over a lock left behind by a crashed process', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const lockPath = join(workspacePath, 'tokens/gpu/lock');
    await mkdir(lockPath, { recursive: true });
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockPath, longAgo, longAgo);
    expect(await token.tryAcquire(holder('a'), 1)).toBe(true);
  });

  it('never lets more processes hold it than its total', async () => {
    const logPath = join(workspacePath, 'log');
    const processes = 4;
    const iterations = 6;
    await Promise.all(
      Array.from({ length: processes }, (_, index) =>
        run(process.execPath, ['--import', 'tsx', contenderScript, workspacePath, 'gpu', '2', logPath, `p${index}`, String(iterations)]),
      ),
    );

    const lines = (await readFile(logPath, 'utf8')).trim().split('\n');
    let holding = 0;
    let most = 0;
    for (const line of lines) {
      holding += line.startsWith('enter ') ? 1 : -1;
      most = Math.max(most, holding);
    }
    expect(most).toBeLessThanOrEqual(2);
    // With four processes contending, both units were in use at some point.
    expect(most).toBe(2);
    expect(lines.filter((line) => line.startsWith('enter '))).toHaveLength(processes * iterations);
    expect(lines.filter((line) => line.startsWith('exit '))).toHaveLength(processes * iterations);
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await token.available()).toBe(2);
  });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('could not start node');
  return child.pid;
}

async function run(command: string, args: string[]): Promise<void> {
  await promisify(execFile)(command, args, { cwd: coreDirectory });
}
